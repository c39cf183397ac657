package main

import (
	"fmt"
	"net/http"

	"github.com/spf13/cobra"
)

func newLabResetCmd() *cobra.Command {
	var endpoint, output string
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Return a running lab to its seed state",
		Long: `reset returns the running lab to the state it started with (its seed or
snapshot): every zone, record, distribution, certificate, load balancer, alarm
and role created since is gone, the change history is empty, temporary STS
keys are forgotten, origin faults are cleared, and the DNS server and the edges
serve the seed's world again at once. It is what a test suite does between
tests (POST /_lab/reset; moto's client posts /moto-api/reset, which the lab
answers the same way).`,
		Example: `  cutover lab reset
  cutover lab reset --endpoint http://127.0.0.1:4566 -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			u := labEndpoint(endpoint) + "/_lab/reset"
			var res map[string]string
			if err := labCall(cmd.Context(), http.MethodPost, u, nil, &res); err != nil {
				return err
			}
			if output == "json" {
				return writeJSONOut(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "lab at %s reset to its seed state\n", labEndpoint(endpoint))
			return nil
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "the lab's AWS endpoint (default $AWS_ENDPOINT_URL, else http://127.0.0.1:4566)")
	outputFlag(cmd, &output)
	return cmd
}
