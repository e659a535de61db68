package rsyslogtest

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal has the kernel kill rsyslogd should the test
// binary die before its cleanup runs.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
