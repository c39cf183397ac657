package main

import (
	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/plan"
)

func newSchemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of plan files",
		Long: `schema prints a JSON Schema (draft 2020-12) describing plan files: every
field, its type, its default and what it means. Point your editor at it to
get completion and inline checks while writing a plan; ` + "`cutover validate`" + `
remains the authority, since some rules span fields (strategy against
edges, increasing weights) that a schema cannot express.`,
		Example: `  cutover schema > cutover.schema.json

  # VS Code with the YAML extension: first line of a plan file
  # yaml-language-server: $schema=./cutover.schema.json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(plan.Schema())
			return err
		},
	}
}

func init() { rootCmd.AddCommand(newSchemaCmd()) }
