package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/entrawatch/entrawatch/internal/config"
	"github.com/spf13/cobra"
)

// newConfigCmd returns "entrawatch config": check and print the
// configuration of entrawatch serve.
func newConfigCmd(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check the configuration file of entrawatch serve, or print an example",
	}
	var secrets bool
	check := &cobra.Command{
		Use:   "check FILE",
		Short: "Report every mistake in a configuration file",
		Long: `Check decodes a configuration file as entrawatch serve does and prints every
problem at once, one per line as FILE:LINE:COL: message (unknown keys, wrong
types, missing values, bad durations, names, URLs and addresses, duplicate
names, secrets written inline), then exits with status 2. Warnings (an
expired suppression, say) are printed too but do not fail the check.

With --secrets it also reads every secret the file refers to, from the
environment and from files, and reports each one missing or empty. Secret
values are never printed.

On success it prints "FILE: ok (N tenants, M file sources, K sinks)".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			cfg, err := config.Load(path)
			if err != nil {
				return configProblems(s.Err, err)
			}
			for _, w := range cfg.Warnings {
				w.Msg = "warning: " + w.Msg
				fmt.Fprintln(s.Err, w.At(path))
			}
			if secrets {
				if err := cfg.ResolveSecrets(os.Getenv, os.ReadFile); err != nil {
					return configProblems(s.Err, err)
				}
			}
			fmt.Fprintf(s.Out, "%s: ok (%s, %s, %s)\n", path,
				configCount(len(cfg.Tenants), "tenant", "tenants"),
				configCount(len(cfg.Files), "file source", "file sources"),
				configCount(len(cfg.Sinks), "sink", "sinks"))
			return nil
		},
	}
	check.Flags().BoolVar(&secrets, "secrets", false, "also read the secrets from the environment and files, and report missing ones")
	example := &cobra.Command{
		Use:   "example",
		Short: "Print a commented example configuration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := io.WriteString(s.Out, config.Example)
			return err
		},
	}
	cmd.AddCommand(check, example)
	return cmd
}

// configProblems prints a configuration's problems one per line and
// returns exit status 2; other errors (an unreadable file) are returned
// for Main to print.
func configProblems(w io.Writer, err error) error {
	var errs *config.Errors
	if !errors.As(err, &errs) {
		return &ExitError{Code: 2, Err: err}
	}
	fmt.Fprintln(w, errs.Error())
	fmt.Fprintf(w, "%s: %s\n", errs.File, configCount(len(errs.List), "problem", "problems"))
	return &ExitError{Code: 2}
}

func configCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
