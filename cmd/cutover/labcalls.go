package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

func newLabCallsCmd() *cobra.Command {
	var service, account, endpoint, output string
	var since int64
	cmd := &cobra.Command{
		Use:   "calls",
		Short: "Show every API call a running lab answered",
		Long: `List every API call the running lab answered, oldest first — reads as well
as writes, refused calls with their HTTP status: sequence number, time,
account, service (its IAM prefix: cloudwatch, not monitoring), operation,
the ARN of the resource it is authorized on (empty for actions without
resource-level permissions) and status. -o json adds the caller (an assumed
role's session ARN for temporary keys). Run a plan against the lab, then
compare these calls with what cutover iam-policy grants.`,
		Example: `  cutover lab calls
  cutover lab calls --service cloudfront --account 222222222222
  cutover lab calls --since 40 -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if since < 0 {
				return usageError(errors.New("--since must be >= 0"))
			}
			q := url.Values{}
			for k, v := range map[string]string{"service": service, "account": account} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if since > 0 {
				q.Set("since", strconv.FormatInt(since, 10))
			}
			u := labEndpoint(endpoint) + "/_lab/calls"
			if len(q) > 0 {
				u += "?" + q.Encode()
			}
			calls := []awsapi.Call{}
			if err := labCall(cmd.Context(), http.MethodGet, u, nil, &calls); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				return writeJSONOut(out, calls)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tTIME\tACCOUNT\tSERVICE\tOPERATION\tRESOURCE\tSTATUS")
			for _, c := range calls {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\n", c.Seq, c.Time.UTC().Format("15:04:05.000"), c.Account, c.Service, c.Operation, c.Resource, c.Status)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "only this service, by IAM prefix (route53, cloudfront, cloudwatch, acm, elasticloadbalancing, sts)")
	cmd.Flags().StringVar(&account, "account", "", "only calls signed as this account")
	cmd.Flags().Int64Var(&since, "since", 0, "only calls after this sequence number")
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "the lab's AWS endpoint (default $AWS_ENDPOINT_URL, else http://127.0.0.1:4566)")
	outputFlag(cmd, &output)
	return cmd
}
