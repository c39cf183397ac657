package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cutover/cutover/internal/connect"
	"github.com/cutover/cutover/internal/verify"
)

// verifyFlags are the flags of `cutover verify`.
type verifyFlags struct {
	host, path, header, caFile, scheme, want, output string
	distributionNew, roleARN                         string
	expect, resolvers                                []string
	noSystem, authoritative, noDiagnose              bool
	samples, port, authPort                          int
	timeout                                          time.Duration
}

const verifyLong = `verify resolves the hostname through each resolver (the system's, the ones given
with --resolver and, with --authoritative, the zone's own name servers), follows
CNAME chains, then fetches the path from every address the answers led to with the
real Host and TLS server name, and classifies each answer by its marker.

DNS is an instruction, not a guarantee: a CloudFront edge picks the distribution by
Host and SNI, so a record can point at the new distribution while the old one still
answers. When paths do not reach the wanted side and DNS leads to CloudFront, verify
asks CloudFront which distribution holds the hostname (ListConflictingAliases) and
says so.

Exit status: 0 when every path reaches the wanted side, 1 otherwise, 2 on bad flags.`

func newVerifyCmd() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify --host HOST --expect new=MARKER [--expect old=MARKER]",
		Short: "Prove which edge really serves a hostname, and say why",
		Long:  verifyLong,
		Example: `  cutover verify --host cdn.example.com --path /ruok \
      --expect old=ok-old-cdn --expect new=ok-new-cdn --resolver 1.1.1.1 --resolver 8.8.8.8`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVerify(cmd, f)
		},
	}
	f.register(cmd.Flags())
	outputFlag(cmd, &f.output)
	return cmd
}

// register declares the command's flags on fl.
func (f *verifyFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.host, "host", "", "hostname to verify (required)")
	fl.StringVar(&f.path, "path", "/", "path fetched from every edge (a marker object)")
	fl.StringArrayVar(&f.expect, "expect", nil, "side=marker, repeatable: new=MARKER (required) and old=MARKER; without old, any answer lacking the new marker counts as old")
	fl.StringVar(&f.header, "header", "", "read the marker from this response header (exact value) instead of the body")
	fl.StringArrayVar(&f.resolvers, "resolver", nil, "DNS resolver to ask (host or host:port), repeatable")
	fl.BoolVar(&f.noSystem, "no-system-resolver", false, "do not ask the operating system's resolver")
	fl.BoolVar(&f.authoritative, "authoritative", false, "also ask the zone's authoritative name servers directly, bypassing caches")
	fl.IntVar(&f.authPort, "authoritative-port", 53, "port the zone's name servers are asked on")
	fl.IntVar(&f.samples, "samples", 5, "DNS queries per resolver and requests per edge address")
	fl.StringVar(&f.caFile, "ca", "", "PEM file of extra CA certificates to trust for HTTPS (a lab CA)")
	fl.IntVar(&f.port, "port", 0, "port dialled on every edge address (default 443 for https, 80 for http)")
	fl.StringVar(&f.scheme, "scheme", "https", "https or http")
	fl.StringVar(&f.want, "want", verify.SideNew, "side every path must reach: new or old")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Second, "bound on one DNS exchange and one request")
	fl.StringVar(&f.distributionNew, "distribution-new", "", "CloudFront distribution DNS should lead to (default: found by the domain the CNAME chain ends at)")
	fl.StringVar(&f.roleARN, "role-arn", "", "IAM role assumed to read CloudFront for the diagnosis")
	fl.BoolVar(&f.noDiagnose, "no-diagnose", false, "do not ask CloudFront why paths reach the other side")
}

// verifyOptions checks the flags and turns them into verifier options.
func verifyOptions(f verifyFlags) (verify.Options, error) {
	o := verify.Options{
		Resolvers:         f.resolvers,
		System:            !f.noSystem,
		Header:            f.header,
		Scheme:            f.scheme,
		Port:              f.port,
		Path:              f.path,
		Samples:           f.samples,
		Timeout:           f.timeout,
		Authoritative:     f.authoritative,
		AuthoritativePort: f.authPort,
	}
	if strings.TrimSpace(f.host) == "" {
		return o, errors.New("--host is required")
	}
	if strings.ContainsAny(f.host, "/: ") {
		return o, fmt.Errorf("--host %q: want a hostname, without scheme, port or path", f.host)
	}
	if err := parseExpect(f.expect, &o); err != nil {
		return o, err
	}
	if o.NewMarker == "" {
		return o, errors.New("--expect new=MARKER is required: it is how an answer from the new side is recognised")
	}
	if o.NewMarker == o.OldMarker {
		return o, errors.New("--expect: new and old markers must differ")
	}
	if f.scheme != "https" && f.scheme != "http" {
		return o, fmt.Errorf("--scheme %q: want https or http", f.scheme)
	}
	if f.want != verify.SideNew && f.want != verify.SideOld {
		return o, fmt.Errorf("--want %q: want new or old", f.want)
	}
	if f.samples < 1 {
		return o, fmt.Errorf("--samples %d: want at least 1", f.samples)
	}
	if f.port < 0 || f.port > 65535 || f.authPort < 1 || f.authPort > 65535 {
		return o, errors.New("--port and --authoritative-port: want 1-65535")
	}
	if f.timeout <= 0 {
		return o, fmt.Errorf("--timeout %s: want a positive duration", f.timeout)
	}
	if !o.System && len(o.Resolvers) == 0 {
		return o, errors.New("--no-system-resolver needs at least one --resolver")
	}
	if !strings.HasPrefix(f.path, "/") {
		return o, fmt.Errorf("--path %q: want an absolute path", f.path)
	}
	if f.caFile != "" {
		pool, err := loadCAPool(f.caFile)
		if err != nil {
			return o, err
		}
		o.RootCAs = pool
	}
	return o, nil
}

// parseExpect reads the --expect side=marker pairs into o.
func parseExpect(expect []string, o *verify.Options) error {
	for _, e := range expect {
		side, marker, ok := strings.Cut(e, "=")
		if !ok || marker == "" {
			return fmt.Errorf("--expect %q: want new=MARKER or old=MARKER", e)
		}
		switch side {
		case verify.SideNew:
			o.NewMarker = marker
		case verify.SideOld:
			o.OldMarker = marker
		default:
			return fmt.Errorf("--expect %q: side %q: want new or old", e, side)
		}
	}
	return nil
}

// loadCAPool returns the system roots plus the PEM certificates of path.
func loadCAPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate found", path)
	}
	return pool, nil
}

func runVerify(cmd *cobra.Command, f verifyFlags) error {
	if err := checkOutput(f.output); err != nil {
		return err
	}
	o, err := verifyOptions(f)
	if err != nil {
		return usageError(err)
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	m := verify.New(o).Check(ctx, f.host, f.path, f.samples, f.want)
	if !m.OK && !f.noDiagnose && reachedOtherSide(m) {
		domains := verify.CloudFrontDomains(m)
		if f.distributionNew != "" || len(domains) > 0 {
			m.Diagnosis = diagnoseAlias(ctx, f, domains)
		}
	}
	out := cmd.OutOrStdout()
	if f.output == "json" {
		err = writeJSONOut(out, m)
	} else {
		err = m.WriteText(out)
	}
	if err != nil {
		return err
	}
	if !m.OK {
		return &exitError{code: exitFailure, err: fmt.Errorf("verify %s: %s", m.Hostname, firstLine(m.Summary))}
	}
	return nil
}

// reachedOtherSide reports whether a path got an answer that was not from
// the wanted side: what the CDN's configuration can explain.
func reachedOtherSide(m *verify.Matrix) bool {
	for _, c := range m.Cells {
		if c.Side != m.Expect {
			return true
		}
	}
	return false
}

// diagnoseAlias asks CloudFront who holds the hostname. It never fails the
// command: what it cannot learn is reported in the diagnosis.
func diagnoseAlias(ctx context.Context, f verifyFlags, domains []string) *verify.Diagnosis {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfg, err := connect.Config(ctx, "", f.roleARN)
	if err != nil {
		return &verify.Diagnosis{Hostname: f.host, Target: f.distributionNew, Errors: []string{"loading AWS configuration: " + err.Error()}}
	}
	return verify.NewDiagnoser(cloudfront.NewFromConfig(cfg)).Diagnose(ctx, f.host, f.distributionNew, domains)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func init() { rootCmd.AddCommand(newVerifyCmd()) }
