// Package cli defines entrawatch's command line.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// ExitError carries a process exit status.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// usageError marks a command-line mistake (exit status 2).
func usageError(format string, args ...any) error {
	return &ExitError{Code: 2, Err: fmt.Errorf(format, args...)}
}

// Streams are the process's standard streams.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// Version is set at build time.
var Version = "dev"

// NewRoot returns the root command.
func NewRoot(s Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "entrawatch",
		Short: "Security operations for devices in Microsoft Entra ID",
		Long: `entrawatch finds the device threats of Microsoft's "security operations for devices"
guide: devices registered or joined without MFA, changes to the device registration
policy, a tenant that does not require MFA to register devices, sign-ins from
non-compliant and unknown devices, stale devices, BitLocker key reads, users added to
Global Administrator or the device administrator roles, and non-Entra accounts signing
in to Linux VMs over SSH and to Windows VMs over RDP.

It reads Microsoft Graph JSON, Azure Monitor diagnostic-settings records (Event Hubs and
storage-account exports), Log Analytics exports (JSON and CSV), the Entra portal's CSV and
JSON downloads, Linux auth.log/secure and journald exports, and Windows Security events
(EVTX, XML, and the JSON of Winlogbeat, NXLog, evtx_dump and Log Analytics), sniffing the
format of each file. Sigma rules (detection, correlation and filter rules) and Microsoft
Sentinel analytic rules run beside the built-in detections with scan --rules.

  entrawatch demo                  serve against a simulated tenant: try it here
  entrawatch serve --config FILE   watch tenants through Microsoft Graph and log files,
                                   store alerts, deliver them, serve the API
  entrawatch config check FILE     validate a configuration (config example prints one)
  entrawatch alerts list           the stored alerts (show, ack, close, reopen)
  entrawatch scan PATH...          find the threats in exported logs
  entrawatch query 'KQL' PATH      run a Kusto query over the same logs
  entrawatch rules list            the detection catalogue
  entrawatch rules lint PATH       check Sigma and Sentinel rules
  entrawatch rules test FILE       run rule unit tests

Documentation: README.md and docs/ (rules, formats, sigma, rule tests, kql,
deployment, performance).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &ExitError{Code: 2, Err: fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath())}
	})
	root.AddCommand(newScanCmd(s), newRulesCmd(s), newQueryCmd(s), newServeCmd(s), newDemoCmd(s), newAlertsCmd(s), newConfigCmd(s))
	return root
}

// Main runs the command line and returns the exit status.
func Main(ctx context.Context, args []string, s Streams) int {
	root := NewRoot(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(s.Err, "entrawatch: %v\n", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintf(s.Err, "entrawatch: %v\n", err)
	return 2
}

// DefaultStreams are the process's own streams.
func DefaultStreams() Streams { return Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr} }
