// Command entrawatch runs security operations for devices in Microsoft
// Entra ID. See "entrawatch --help".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/entrawatch/entrawatch/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.DefaultStreams())
	stop()
	os.Exit(code)
}
