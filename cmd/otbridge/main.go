// Command otbridge moves Microsoft Defender for IoT alert forwarding from the
// deprecated Microsoft Sentinel CEF proxy to the Azure Monitor Logs
// Ingestion API, one forwarding rule at a time. Run "otbridge help" for the
// commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
