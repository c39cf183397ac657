package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/iampolicy"
)

const iamPolicyLong = `iam-policy prints the least-privilege IAM policy that running a plan needs:
every action, on the resources the plan names, that cutover plan, preflight
(also the first stage of apply), apply (forward and every rollback), the
plan's gates, the decommission checks (the end of the hold and cutover
decommission-check) and cutover verify's CloudFront diagnosis can call. It
reads only the plan file: no AWS call is made, so the policy can be created
before the credentials it is for.

When the plan assumes roles (zone.role_arn, an edge's role_arn, a gate's
role_arn), there is one policy per principal: the credentials cutover runs
with (which need sts:AssumeRole on each role) and each role, with the role's
account in its ARNs. Text output puts a comment header above each document
saying whose it is and why each action is there; -o json prints the policy
document itself, ready for aws iam put-role-policy (with several principals,
an object of documents by principal, "caller" for the own credentials, or
one document with --for).

Route 53 record changes are granted on the plan's hosted zone (reads on
hostedzone/*: the decommission checks look at every zone of the account),
GetChange on change/*, CloudFront actions on the plan's distributions, ACM
DescribeCertificate on the edge's region and account, CloudWatch and the
Describe/List actions without resource-level permissions on "*". A zone on an
RFC 2136 server needs no Route 53 permission at all; a role reached through
a role_chain is assumed hop by hop, each role granted AssumeRole on the next.
A plan that makes no AWS call at all (an RFC 2136 zone between endpoints)
says so; its -o json is {}, no principal. An invalid plan exits with 2 and
prints nothing.`

func newIAMPolicyCmd() *cobra.Command {
	var file, output, account, forPrincipal string
	cmd := &cobra.Command{
		Use:   "iam-policy -f PLAN",
		Short: "Print the least-privilege IAM policy a plan's run needs",
		Long:  iamPolicyLong,
		Example: `  # the policy, with why each action is needed
  cutover iam-policy -f examples/weighted.yaml

  # the document alone, attached to the role cutover runs as
  cutover iam-policy -f plan.yaml -o json > policy.json
  aws iam put-role-policy --role-name cutover --policy-name api-move --policy-document file://policy.json

  # the caller's account, for distribution ARNs reached without a role
  cutover iam-policy -f plan.yaml --account 111111111111

  # one principal's document when the plan assumes roles
  cutover iam-policy -f plan.yaml -o json --for arn:aws:iam::222222222222:role/dns`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if account != "" && !accountID.MatchString(account) {
				return usageError(fmt.Errorf("--account %q: want a 12-digit account id", account))
			}
			if file == "" {
				return usageError(errors.New("no plan file: name one with -f"))
			}
			p, _, err := loadPlan(file)
			if err != nil {
				return err
			}
			res, err := iampolicy.ForPlan(p, iampolicy.Options{Account: account})
			if err != nil {
				return usageError(err)
			}
			if output == "json" {
				return writePolicyJSON(cmd.OutOrStdout(), res, forPrincipal)
			}
			return writePolicyText(cmd.OutOrStdout(), res, forPrincipal)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "plan file")
	cmd.Flags().StringVar(&account, "account", "", "account id of the credentials cutover runs with (default: any account in their ARNs)")
	cmd.Flags().StringVar(&forPrincipal, "for", "", `only this principal's policy: a role ARN of the plan, or "caller"`)
	outputFlag(cmd, &output)
	return cmd
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// principalName is how output names a principal.
func principalName(pol iampolicy.Policy) string {
	if pol.Principal == "" {
		return "caller"
	}
	return pol.Principal
}

// selectPolicies keeps the policy --for names, or all of them.
func selectPolicies(res *iampolicy.Result, forPrincipal string) ([]iampolicy.Policy, error) {
	if forPrincipal == "" {
		return res.Policies, nil
	}
	var names []string
	for _, pol := range res.Policies {
		if principalName(pol) == forPrincipal {
			return []iampolicy.Policy{pol}, nil
		}
		names = append(names, principalName(pol))
	}
	return nil, usageError(fmt.Errorf("--for %q: the plan's principals are %s", forPrincipal, strings.Join(names, ", ")))
}

func writePolicyJSON(w io.Writer, res *iampolicy.Result, forPrincipal string) error {
	pols, err := selectPolicies(res, forPrincipal)
	if err != nil {
		return err
	}
	if len(pols) == 1 {
		return writeJSONOut(w, pols[0].Document)
	}
	byPrincipal := map[string]any{}
	for _, pol := range pols {
		byPrincipal[principalName(pol)] = pol.Document
	}
	return writeJSONOut(w, byPrincipal)
}

func writePolicyText(w io.Writer, res *iampolicy.Result, forPrincipal string) error {
	pols, err := selectPolicies(res, forPrincipal)
	if err != nil {
		return err
	}
	if len(pols) == 0 {
		for _, n := range res.Notes {
			fmt.Fprintf(w, "# note: %s\n", n)
		}
		_, err := fmt.Fprintf(w, "# plan %s (strategy %s): no AWS call, so no IAM policy is needed\n", res.Plan, res.Strategy)
		return err
	}
	for i, pol := range pols {
		if i > 0 {
			fmt.Fprintln(w)
		}
		who := "the credentials cutover runs with"
		if pol.Principal != "" {
			who = "role " + pol.Principal
		}
		account := pol.Account
		if account == "" {
			account = "not named: --account"
		}
		if i == 0 {
			for _, n := range res.Notes {
				fmt.Fprintf(w, "# note: %s\n", n)
			}
			for _, u := range res.Unverified {
				fmt.Fprintf(w, "# unverified against the Service Authorization Reference: %s\n", u)
			}
		}
		fmt.Fprintf(w, "# plan %s (strategy %s): policy for %s (account %s)\n", res.Plan, res.Strategy, who, account)
		for _, u := range pol.Uses {
			fmt.Fprintf(w, "#   %s on %s: %s\n", u.Action, u.Resource, strings.Join(u.Why, "; "))
		}
		b, err := json.MarshalIndent(pol.Document, "", "  ")
		if err != nil {
			return fmt.Errorf("rendering the policy: %w", err)
		}
		fmt.Fprintf(w, "%s\n", b)
	}
	return nil
}

func init() { rootCmd.AddCommand(newIAMPolicyCmd()) }
