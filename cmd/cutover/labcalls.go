package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

func newLabCallsCmd() *cobra.Command {
	var service, account string
	var list labListFlags
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
			return listLab(cmd, list, "/_lab/calls", map[string]string{"service": service, "account": account},
				"SEQ\tTIME\tACCOUNT\tSERVICE\tOPERATION\tRESOURCE\tSTATUS", func(c awsapi.Call) string {
					return fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%s\t%d", c.Seq, c.Time.UTC().Format("15:04:05.000"), c.Account, c.Service, c.Operation, c.Resource, c.Status)
				})
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "only this service, by IAM prefix (route53, cloudfront, cloudwatch, acm, elasticloadbalancing, sts)")
	cmd.Flags().StringVar(&account, "account", "", "only calls signed as this account")
	list.register(cmd, "calls")
	return cmd
}
