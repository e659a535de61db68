package listener

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	// Timezones must resolve on hosts without a zoneinfo database.
	_ "time/tzdata"

	"github.com/otbridge/otbridge/bridge"
)

// The transports a listener serves.
const (
	TransportUDP = "udp"
	TransportTCP = "tcp"
	TransportTLS = "tls"
)

// Defaults and bounds of the settings.
const (
	DefaultMaxMessageSize   = 64 << 10
	DefaultMaxConnections   = 256
	DefaultIdleTimeout      = 5 * time.Minute
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultUDPQueue         = 1024
	DefaultTLSMinVersion    = "1.2"

	// minMessageSize is what RFC 3164 receivers must accept at least.
	minMessageSize = 480
	maxMessageSize = 16 << 20
	maxReadBuffer  = 16 << 20
	maxUDPBuffer   = 256 << 20
	maxUDPQueue    = 1 << 20
)

// Config is one syslog listener, an entry of the config's listeners list.
// Zero fields take the default named in their comment (see WithDefaults).
type Config struct {
	// Name names the listener in logs, metrics and every message it
	// receives. Required.
	Name string `mapstructure:"name"`
	// Address is host:port to listen on, such as 0.0.0.0:514. Port 0 picks
	// a free port (tests). Required.
	Address string `mapstructure:"address"`
	// Transport is udp, tcp or tls (RFC 5425). Required.
	Transport string `mapstructure:"transport"`
	// Rule, when set, binds the listener to one forwarding rule: every
	// message it receives is attributed to that rule. Empty: messages are
	// attributed by routing.
	Rule RuleBinding `mapstructure:"rule"`
	// TLS is the server side of transport tls; refused for the others.
	TLS TLSConfig `mapstructure:"tls"`
	// MaxMessageSize is the largest message accepted, in bytes, without
	// its framing; a larger one is counted and not forwarded. Default
	// 65536 (64 KiB).
	MaxMessageSize int `mapstructure:"max_message_size"`
	// MaxConnections bounds the TCP or TLS connections open at once; a
	// connection over the bound is closed as soon as it is accepted.
	// Default 256.
	MaxConnections int `mapstructure:"max_connections"`
	// IdleTimeout closes a TCP or TLS connection that sent nothing for
	// that long. Default 5m.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	// ReadBuffer is the kernel receive buffer (SO_RCVBUF) of each TCP or
	// TLS connection, in bytes, at most 16 MiB. Together with
	// MaxMessageSize, which sizes the framing buffer, it bounds what one
	// connection holds while the consumer is slow. Default 0: the
	// system's (autotuned).
	ReadBuffer int `mapstructure:"read_buffer"`
	// UDPReadBuffer is the kernel receive buffer (SO_RCVBUF) of a udp
	// listener, in bytes; the system caps it (net.core.rmem_max on Linux).
	// Default 0: the system's.
	UDPReadBuffer int `mapstructure:"udp_read_buffer"`
	// UDPQueue is how many datagrams a udp listener holds for a busy
	// consumer; a datagram arriving when the queue is full is dropped and
	// counted. Default 1024.
	UDPQueue int `mapstructure:"udp_queue"`
	// Timezone is the zone of syslog and alert times written without one,
	// an IANA name. Default UTC.
	Timezone string `mapstructure:"timezone"`
}

// RuleBinding names the forwarding rule a listener is bound to.
type RuleBinding struct {
	// Appliance is the sensor or management console that owns the rule.
	Appliance string `mapstructure:"appliance"`
	// Rule is the rule's name on that appliance.
	Rule string `mapstructure:"rule"`
}

// Ref returns the bound rule, nil when the listener is not bound.
func (b RuleBinding) Ref() *bridge.RuleRef {
	if b == (RuleBinding{}) {
		return nil
	}
	return &bridge.RuleRef{Appliance: b.Appliance, Rule: b.Rule}
}

// TLSConfig is the server side of a tls listener. The files are read when
// the listener is created, again on Reload, and again when a new
// connection finds that one of them changed.
type TLSConfig struct {
	// CertificateFile is the server's PEM certificate chain, leaf first.
	// Required.
	CertificateFile string `mapstructure:"certificate_file"`
	// KeyFile is the PEM private key of the certificate. Required.
	KeyFile string `mapstructure:"key_file"`
	// ClientCAFile, when set, turns on mutual TLS: every client must
	// present a certificate that chains to a CA in this PEM file.
	ClientCAFile string `mapstructure:"client_ca_file"`
	// MinVersion is the lowest TLS version accepted, 1.2 or 1.3. Default
	// 1.2.
	MinVersion string `mapstructure:"min_version"`
	// HandshakeTimeout bounds the TLS handshake of a new connection.
	// Default 10s.
	HandshakeTimeout time.Duration `mapstructure:"handshake_timeout"`
}

// set reports whether any TLS setting is given.
func (t TLSConfig) set() bool { return t != TLSConfig{} }

// WithDefaults returns the config with every zero field set to its
// default. TLS settings get defaults only for transport tls.
func (c Config) WithDefaults() Config {
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.UDPQueue == 0 {
		c.UDPQueue = DefaultUDPQueue
	}
	if c.Timezone == "" {
		c.Timezone = "UTC"
	}
	if c.Transport == TransportTLS {
		if c.TLS.MinVersion == "" {
			c.TLS.MinVersion = DefaultTLSMinVersion
		}
		if c.TLS.HandshakeTimeout == 0 {
			c.TLS.HandshakeTimeout = DefaultHandshakeTimeout
		}
	}
	return c
}

// FieldProblem is one invalid setting; see bridge.FieldProblem.
type FieldProblem = bridge.FieldProblem

// Validate checks a config that WithDefaults has completed and returns
// every problem. It reads no certificate files (New does) and opens no
// socket.
func (c *Config) Validate() []FieldProblem {
	var ps bridge.FieldProblems
	add := ps.Add

	if c.Name == "" {
		add("name", "missing: give the listener a name for logs and metrics")
	}
	if err := checkAddress(c.Address); err != nil {
		add("address", "%v: write host:port to listen on, such as 0.0.0.0:514", err)
	}
	switch c.Transport {
	case TransportUDP, TransportTCP, TransportTLS:
	case "":
		add("transport", "missing: udp, tcp or tls, as the sensor's forwarding rule sends")
	default:
		add("transport", "unknown transport %q (want udp, tcp or tls)", c.Transport)
	}
	if (c.Rule.Appliance == "") != (c.Rule.Rule == "") {
		add("rule", "give both appliance and rule to bind the listener to a rule, or neither")
	}

	if c.Transport == TransportTLS {
		ps = append(ps, c.TLS.validate()...)
	} else if c.TLS.set() {
		add("tls", "only for transport tls: this listener's transport is %q", c.Transport)
	}

	if c.MaxMessageSize < minMessageSize || c.MaxMessageSize > maxMessageSize {
		add("max_message_size", "%d is out of range: syslog senders need at least %d bytes; at most %d", c.MaxMessageSize, minMessageSize, maxMessageSize)
	}
	if c.MaxConnections < 1 {
		add("max_connections", "must be at least 1")
	}
	if c.IdleTimeout <= 0 {
		add("idle_timeout", "must be positive, such as 5m")
	}
	if c.ReadBuffer != 0 && (c.ReadBuffer < 1024 || c.ReadBuffer > maxReadBuffer) {
		add("read_buffer", "%d is out of range: 0 (the system's), or 1024 to %d", c.ReadBuffer, maxReadBuffer)
	}
	if c.UDPReadBuffer != 0 && c.Transport != TransportUDP {
		add("udp_read_buffer", "only for transport udp: use read_buffer for tcp and tls")
	}
	if c.UDPReadBuffer < 0 || c.UDPReadBuffer > maxUDPBuffer {
		add("udp_read_buffer", "%d is out of range: 0 (the system's) to %d", c.UDPReadBuffer, maxUDPBuffer)
	}
	if c.UDPQueue < 1 || c.UDPQueue > maxUDPQueue {
		add("udp_queue", "%d is out of range: 1 to %d", c.UDPQueue, maxUDPQueue)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		add("timezone", "unknown timezone %q: use an IANA name such as Europe/Berlin, or UTC", c.Timezone)
	}
	return ps
}

func (t *TLSConfig) validate() []FieldProblem {
	var ps bridge.FieldProblems
	add := func(field, format string, args ...any) { ps.Add("tls."+field, format, args...) }
	if t.CertificateFile == "" {
		add("certificate_file", "missing: transport tls needs the server certificate's PEM file")
	}
	if t.KeyFile == "" {
		add("key_file", "missing: transport tls needs the PEM file of the certificate's private key")
	}
	if _, ok := tlsVersions[t.MinVersion]; !ok {
		add("min_version", "unknown version %q (want 1.2 or 1.3; older versions are refused)", t.MinVersion)
	}
	if t.HandshakeTimeout <= 0 {
		add("handshake_timeout", "must be positive, such as 10s")
	}
	return ps
}

// checkAddress checks host:port with a numeric port.
func checkAddress(addr string) error {
	if addr == "" {
		return fmt.Errorf("missing")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

// problemsError joins problems into one error for New.
func problemsError(ps []FieldProblem) error {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Field + ": " + p.Msg
	}
	return fmt.Errorf("invalid listener config: %s", strings.Join(parts, "; "))
}
