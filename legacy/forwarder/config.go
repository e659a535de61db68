package forwarder

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy/inventory"
	"github.com/otbridge/otbridge/legacy/syslog"
)

// The transports.
const (
	TransportUDP = "udp"
	TransportTCP = "tcp"
	TransportTLS = "tls"
)

// The framings of a TCP or TLS stream (RFC 6587).
const (
	// FramingNewline ends every message with LF, as sensors and rsyslog
	// do by default. A message that this framing cannot carry whole goes
	// octet-counted instead (see the package comment).
	FramingNewline = "newline"
	// FramingOctetCounting writes "LEN SP MSG".
	FramingOctetCounting = "octet-counting"
)

// The syslog header formats of rendered alerts.
const (
	FormatRFC3164 = "rfc3164"
	FormatRFC5424 = "rfc5424"
)

// MaxDatagram is the largest message UDP can carry in one datagram over
// IPv4.
const MaxDatagram = 65507

// Config is one legacy destination: a CEF proxy, that is rsyslog or
// syslog-ng in front of the Azure Monitor Agent. Zero fields take the
// default named in their comment (see WithDefaults).
type Config struct {
	// Name is what routes call the destination. Required.
	Name string `mapstructure:"name"`
	// Address is host:port of the proxy. Required.
	Address string `mapstructure:"address"`
	// Transport is udp, tcp or tls. Default tcp.
	Transport string `mapstructure:"transport"`
	// Framing is newline or octet-counting, for tcp and tls. Default
	// newline, what sensors send and what every syslog collector reads.
	Framing string `mapstructure:"framing"`
	// TLS configures the tls transport.
	TLS TLSConfig `mapstructure:"tls"`

	// SyslogFormat is the header of alerts that did not arrive as syslog
	// (from the REST API), rendered as the sensor would: rfc3164 or
	// rfc5424. Default rfc3164, as sensors send. Messages that arrived as
	// syslog keep their own header.
	SyslogFormat string `mapstructure:"syslog_format"`
	// Hostname is the HOSTNAME of that header. Default the alert's sensor
	// name, as sensors send.
	Hostname string `mapstructure:"hostname"`
	// Timezone is the forwarding action's timezone, in which rendered
	// alerts carry their times: an IANA name or an offset such as
	// UTC+01:00. Default UTC.
	Timezone string `mapstructure:"timezone"`

	// DialTimeout bounds one connection attempt, the TLS handshake
	// included. Default 5s.
	DialTimeout time.Duration `mapstructure:"dial_timeout"`
	// WriteTimeout bounds one write; on Linux it also bounds how long
	// written data may stay unacknowledged by the proxy before the
	// connection is given up. Default 10s.
	WriteTimeout time.Duration `mapstructure:"write_timeout"`
	// ReconnectMin and ReconnectMax bound the jittered, exponential wait
	// before a new connection attempt. Defaults 1s and 30s.
	ReconnectMin time.Duration `mapstructure:"reconnect_min"`
	ReconnectMax time.Duration `mapstructure:"reconnect_max"`
	// QueueSize is how many messages wait in memory for the connection;
	// when it is full, Handle blocks. Default 10000.
	QueueSize int `mapstructure:"queue_size"`
	// ResendWindow is how long a message written over tcp or tls is kept
	// after the proxy acknowledged it, to be written again if the
	// connection breaks within that time. Default 5s.
	ResendWindow time.Duration `mapstructure:"resend_window"`
	// ResendLimit caps the messages kept for resending; one write
	// carries at most a quarter of it. When the window has no room for
	// another write, the oldest acknowledged messages are let go early
	// (down to three quarters of it), and while none is acknowledged
	// writing waits. Default 10000.
	ResendLimit int `mapstructure:"resend_limit"`
	// DrainTimeout is how long Run goes on writing after its context
	// ended, to deliver what was accepted. Default 10s.
	DrainTimeout time.Duration `mapstructure:"drain_timeout"`
}

// TLSConfig configures the tls transport. TLS 1.2 is the least version
// offered, and the proxy's certificate is always verified.
type TLSConfig struct {
	// CAFile is a PEM file of the certificates that may sign the proxy's
	// certificate (usually generated on the proxy). Default the system's
	// roots.
	CAFile string `mapstructure:"ca_file"`
	// CertificateFile and KeyFile are the PEM client certificate and key,
	// for a proxy that asks for one. Optional, both or neither.
	CertificateFile string `mapstructure:"certificate_file"`
	KeyFile         string `mapstructure:"key_file"`
	// ServerName is the name checked in the proxy's certificate. Default
	// the host of Address.
	ServerName string `mapstructure:"server_name"`
}

// WithDefaults returns the config with every zero field set to its
// default.
func (c Config) WithDefaults() Config {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	defInt := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	defDur := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.Transport, TransportTCP)
	def(&c.Framing, FramingNewline)
	def(&c.SyslogFormat, FormatRFC3164)
	def(&c.Timezone, "UTC")
	defDur(&c.DialTimeout, 5*time.Second)
	defDur(&c.WriteTimeout, 10*time.Second)
	defDur(&c.ReconnectMin, time.Second)
	defDur(&c.ReconnectMax, 30*time.Second)
	defInt(&c.QueueSize, 10000)
	defDur(&c.ResendWindow, 5*time.Second)
	defInt(&c.ResendLimit, 10000)
	defDur(&c.DrainTimeout, 10*time.Second)
	if c.TLS.ServerName == "" && c.Transport == TransportTLS {
		if host, _, err := net.SplitHostPort(c.Address); err == nil {
			c.TLS.ServerName = host
		}
	}
	return c
}

// FieldProblem is one invalid setting; see bridge.FieldProblem.
type FieldProblem = bridge.FieldProblem

// Validate checks a config that WithDefaults has completed and returns
// every problem. It does not read files or reach the network.
func (c *Config) Validate() []FieldProblem {
	var ps bridge.FieldProblems
	add := ps.Add

	if c.Name == "" {
		add("name", "missing: give the destination a name that routes refer to")
	}
	if msg := checkAddress(c.Address); msg != "" {
		add("address", "%s: write host:port of the CEF proxy, such as 10.0.0.5:514", msg)
	}
	switch c.Transport {
	case TransportUDP, TransportTCP, TransportTLS:
	default:
		add("transport", "unknown transport %q (want udp, tcp or tls)", c.Transport)
	}
	switch c.Framing {
	case FramingNewline:
	case FramingOctetCounting:
		if c.Transport == TransportUDP {
			add("framing", "octet-counting is for tcp and tls: udp carries one message per datagram, unframed")
		}
	default:
		add("framing", "unknown framing %q (want newline or octet-counting)", c.Framing)
	}

	t := c.TLS
	if c.Transport != TransportTLS {
		if t != (TLSConfig{}) {
			add("tls", "only for transport tls: remove it or set transport: tls")
		}
	} else if (t.CertificateFile == "") != (t.KeyFile == "") {
		add("tls.key_file", "give the client certificate_file and its key_file together, or neither")
	}

	if c.SyslogFormat != FormatRFC3164 && c.SyslogFormat != FormatRFC5424 {
		add("syslog_format", "unknown format %q (want rfc3164 or rfc5424)", c.SyslogFormat)
	}
	if _, err := inventory.LoadTimezone(c.Timezone); err != nil {
		add("timezone", "%v", err)
	}

	positive := func(field string, d time.Duration) {
		if d <= 0 {
			add(field, "must be positive")
		}
	}
	positive("dial_timeout", c.DialTimeout)
	positive("write_timeout", c.WriteTimeout)
	positive("reconnect_min", c.ReconnectMin)
	if c.ReconnectMax < c.ReconnectMin {
		add("reconnect_max", "%v is shorter than reconnect_min %v", c.ReconnectMax, c.ReconnectMin)
	}
	if c.QueueSize < 1 || c.QueueSize > 10_000_000 {
		add("queue_size", "%d is out of range: 1 to 10000000", c.QueueSize)
	}
	positive("resend_window", c.ResendWindow)
	if c.ResendLimit < 1 {
		add("resend_limit", "must be at least 1")
	}
	positive("drain_timeout", c.DrainTimeout)
	return ps
}

// checkAddress returns what is wrong with a host:port, or "".
func checkAddress(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("%q is not host:port", addr)
	}
	if host == "" {
		return fmt.Sprintf("%q has no host", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("%q has no port number from 1 to 65535", addr)
	}
	return ""
}

// framing returns the framing of the stream transports.
func (c *Config) framing() syslog.Framing {
	if c.Framing == FramingOctetCounting {
		return syslog.OctetCounting
	}
	return syslog.NonTransparent
}

// format returns the syslog header format of rendered alerts.
func (c *Config) format() syslog.Format {
	if c.SyslogFormat == FormatRFC5424 {
		return syslog.FormatRFC5424
	}
	return syslog.FormatRFC3164
}
