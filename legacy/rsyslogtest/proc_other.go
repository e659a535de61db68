//go:build !linux

package rsyslogtest

import "os/exec"

// setParentDeathSignal does nothing where the kernel offers no such
// signal; the test's cleanup stops rsyslogd.
func setParentDeathSignal(*exec.Cmd) {}
