package listener

import (
	"fmt"
	"testing"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

func TestConfig_WithDefaults(t *testing.T) {
	c := Config{Name: "n", Address: ":6514", Transport: TransportTLS}.WithDefaults()
	if c.MaxMessageSize != 65536 || c.MaxConnections != 256 || c.IdleTimeout != 5*time.Minute ||
		c.UDPQueue != 1024 || c.Timezone != "UTC" || c.TLS.MinVersion != "1.2" || c.TLS.HandshakeTimeout != 10*time.Second {
		t.Errorf("defaults = %+v", c)
	}
	if c := (Config{Transport: TransportTCP}).WithDefaults(); c.TLS != (TLSConfig{}) {
		t.Errorf("tcp listener got TLS defaults %+v", c.TLS)
	}
	if c := (Config{MaxMessageSize: 2048}).WithDefaults(); c.MaxMessageSize != 2048 {
		t.Errorf("set value replaced: %d", c.MaxMessageSize)
	}
}

func TestConfig_Validate(t *testing.T) {
	good := func() Config {
		return Config{Name: "sensors", Address: "0.0.0.0:6514", Transport: TransportTLS,
			TLS: TLSConfig{CertificateFile: "s.crt", KeyFile: "s.key"}}
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   []string // the fields with a problem
	}{
		{"valid", func(*Config) {}, nil},
		{"valid udp", func(c *Config) {
			*c = Config{Name: "u", Address: "[::]:514", Transport: TransportUDP, UDPReadBuffer: 8 << 20}
		}, nil},
		{"bound rule", func(c *Config) { c.Rule = RuleBinding{Appliance: "s1", Rule: "r1"} }, nil},
		{"missing name, address, transport", func(c *Config) { *c = Config{} }, []string{"name", "address", "transport"}},
		{"address without port", func(c *Config) { c.Address = "0.0.0.0" }, []string{"address"}},
		{"port out of range", func(c *Config) { c.Address = "localhost:70000" }, []string{"address"}},
		{"unknown transport", func(c *Config) { c.Transport = "TCP" }, []string{"transport", "tls"}},
		{"half a rule", func(c *Config) { c.Rule.Rule = "r1" }, []string{"rule"}},
		{"tls without files", func(c *Config) { c.TLS = TLSConfig{} }, []string{"tls.certificate_file", "tls.key_file"}},
		{"old tls version", func(c *Config) { c.TLS.MinVersion = "1.0" }, []string{"tls.min_version"}},
		{"tls on tcp", func(c *Config) { c.Transport = TransportTCP }, []string{"tls"}},
		{"message size", func(c *Config) { c.MaxMessageSize = 100 }, []string{"max_message_size"}},
		{"connections", func(c *Config) { c.MaxConnections = -1 }, []string{"max_connections"}},
		{"idle timeout", func(c *Config) { c.IdleTimeout = -time.Second }, []string{"idle_timeout"}},
		{"read buffer", func(c *Config) { c.ReadBuffer = 100 << 20 }, []string{"read_buffer"}},
		{"udp buffer on tls", func(c *Config) { c.UDPReadBuffer = 1 << 20 }, []string{"udp_read_buffer"}},
		{"udp queue", func(c *Config) { c.UDPQueue = -5 }, []string{"udp_queue"}},
		{"timezone", func(c *Config) { c.Timezone = "Mars/Olympus" }, []string{"timezone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.change(&c)
			c = c.WithDefaults()
			var got []string
			for _, p := range c.Validate() {
				if p.Msg == "" {
					t.Errorf("%s: empty message", p.Field)
				}
				got = append(got, p.Field)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("problems in %v, want %v: %+v", got, tt.want, c.Validate())
			}
		})
	}
}

func TestRuleBinding_Ref(t *testing.T) {
	if r := (RuleBinding{}).Ref(); r != nil {
		t.Errorf("unbound Ref = %v", r)
	}
	if r := (RuleBinding{Appliance: "s1", Rule: "r1"}).Ref(); r == nil || *r != (bridge.RuleRef{Appliance: "s1", Rule: "r1"}) {
		t.Errorf("Ref = %v", r)
	}
}

func TestNew_invalidConfig(t *testing.T) {
	_, err := New(Config{Name: "x", Address: "127.0.0.1:0", Transport: "sctp"}, &recorder{}, nil)
	if err == nil || err.Error() != `invalid listener config: transport: unknown transport "sctp" (want udp, tcp or tls)` {
		t.Errorf("New = %v", err)
	}
}
