package modern

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// validConfig is a complete client-secret destination in the public cloud.
func validConfig() Config {
	return Config{
		Name:           "sentinel-prod",
		Endpoint:       "https://otbridge-dce-abcd.westeurope-1.ingest.monitor.azure.com",
		DCRImmutableID: "dcr-0123456789abcdef0123456789ABCDEF",
		Stream:         "Custom-OTBridgeAlerts",
		Credential: CredentialConfig{
			Type:             CredentialClientSecret,
			TenantID:         "5d1e7a90-3c4b-4f2e-8a61-9b0c7d2e4f13",
			ClientID:         "0d3c8f52-7a41-4c1e-9b7e-2f6a1c9d4e10",
			ClientSecretFile: "/run/secrets/otbridge-client-secret",
		},
	}
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		// want is the fields with a problem, in order; none for a valid
		// config.
		want []string
		// noDefaults skips WithDefaults, to reach the checks of values
		// it would fill.
		noDefaults bool
	}{
		{name: "valid", edit: func(*Config) {}},
		{name: "valid us gov", edit: func(c *Config) { c.Cloud.Name = CloudUSGov }},
		{name: "valid china", edit: func(c *Config) { c.Cloud.Name = CloudChina }},
		{name: "valid custom cloud", edit: func(c *Config) {
			c.Cloud = CloudConfig{Name: CloudCustom, AuthorityHost: "https://login.example.test/", Audience: "https://monitor.example.test"}
		}},
		{name: "valid Microsoft- stream", edit: func(c *Config) { c.Stream = "Microsoft-CommonSecurityLog" }},
		{name: "valid custom table", edit: func(c *Config) { c.Profile, c.Table = ProfileCustom, "OTAlerts_CL" }},
		{name: "valid secret env", edit: func(c *Config) {
			c.Credential.ClientSecretFile, c.Credential.ClientSecretEnv = "", "OTBRIDGE_CLIENT_SECRET"
		}},
		{name: "valid certificate", edit: func(c *Config) {
			c.Credential = CredentialConfig{Type: CredentialClientCertificate, TenantID: "t", ClientID: "c", CertificateFile: "/c.pfx", CertificatePasswordEnv: "PFX_PASSWORD"}
		}},
		{name: "valid default", edit: func(c *Config) { c.Credential = CredentialConfig{} }},
		{name: "valid system managed identity", edit: func(c *Config) { c.Credential = CredentialConfig{Type: CredentialManagedIdentity} }},
		{name: "valid user-assigned identity", edit: func(c *Config) {
			c.Credential = CredentialConfig{Type: CredentialManagedIdentity, ManagedIdentityResourceID: "/subscriptions/0/x"}
		}},
		{name: "valid workload identity", edit: func(c *Config) { c.Credential = CredentialConfig{Type: CredentialWorkloadIdentity} }},
		{name: "valid azure cli", edit: func(c *Config) { c.Credential = CredentialConfig{Type: CredentialAzureCLI} }},

		{name: "no name", edit: func(c *Config) { c.Name = "" }, want: []string{"name"}},
		{name: "http endpoint", edit: func(c *Config) { c.Endpoint = "http://dce.example" }, want: []string{"endpoint"}},
		{name: "endpoint without host", edit: func(c *Config) { c.Endpoint = "https://" }, want: []string{"endpoint"}},
		{name: "endpoint with user", edit: func(c *Config) { c.Endpoint = "https://u:p@dce.example" }, want: []string{"endpoint"}},
		{name: "dcr id short", edit: func(c *Config) { c.DCRImmutableID = "dcr-0123" }, want: []string{"dcr_immutable_id"}},
		{name: "dcr id not hex", edit: func(c *Config) { c.DCRImmutableID = "dcr-0123456789abcdef0123456789abcdeg" }, want: []string{"dcr_immutable_id"}},
		{name: "dcr id without prefix", edit: func(c *Config) { c.DCRImmutableID = "0123456789abcdef0123456789abcdef" }, want: []string{"dcr_immutable_id"}},
		{name: "table as stream", edit: func(c *Config) { c.Stream = "OTBridgeAlerts_CL" }, want: []string{"stream"}},
		{name: "unknown profile", edit: func(c *Config) { c.Profile = "cef" }, want: []string{"profile"}},
		{name: "custom table without _CL", edit: func(c *Config) { c.Profile, c.Table = ProfileCustom, "OTAlerts" }, want: []string{"table"}},
		{name: "custom table only _CL", edit: func(c *Config) { c.Profile, c.Table = ProfileCustom, "_CL" }, want: []string{"table"}},
		{name: "authority host outside custom", edit: func(c *Config) { c.Cloud.AuthorityHost = "https://login.example" }, want: []string{"cloud.authority_host"}},
		{name: "custom without authority or audience", edit: func(c *Config) { c.Cloud = CloudConfig{Name: CloudCustom} },
			want: []string{"cloud.authority_host", "cloud.audience"}},
		{name: "custom with http authority", edit: func(c *Config) {
			c.Cloud = CloudConfig{Name: CloudCustom, AuthorityHost: "http://login.example", Audience: "https://monitor.example"}
		}, want: []string{"cloud.authority_host"}},
		{name: "unknown cloud", edit: func(c *Config) { c.Cloud.Name = "germany" }, want: []string{"cloud.name"}},

		{name: "secret without tenant and client", edit: func(c *Config) { c.Credential.TenantID, c.Credential.ClientID = "", "" },
			want: []string{"credential.tenant_id", "credential.client_id"}},
		{name: "secret file and env", edit: func(c *Config) { c.Credential.ClientSecretEnv = "SECRET" }, want: []string{"credential.client_secret_file"}},
		{name: "no secret source", edit: func(c *Config) { c.Credential.ClientSecretFile = "" }, want: []string{"credential.client_secret_file"}},
		{name: "certificate missing everything", edit: func(c *Config) { c.Credential = CredentialConfig{Type: CredentialClientCertificate} },
			want: []string{"credential.tenant_id", "credential.client_id", "credential.certificate_file"}},
		{name: "certificate password file and env", edit: func(c *Config) {
			c.Credential = CredentialConfig{Type: CredentialClientCertificate, TenantID: "t", ClientID: "c", CertificateFile: "/c.pfx",
				CertificatePasswordFile: "/p", CertificatePasswordEnv: "P"}
		}, want: []string{"credential.certificate_password_file"}},
		{name: "managed identity by both ids", edit: func(c *Config) {
			c.Credential = CredentialConfig{Type: CredentialManagedIdentity, ManagedIdentityClientID: "c", ManagedIdentityResourceID: "/r"}
		}, want: []string{"credential.managed_identity_client_id"}},
		{name: "unknown credential type", edit: func(c *Config) { c.Credential.Type = "kerberos" }, want: []string{"credential.type"}},

		{name: "timeout too short", edit: func(c *Config) { c.Timeout = 500 * time.Millisecond }, want: []string{"timeout"}},
		{name: "max bytes over the API limit", edit: func(c *Config) { c.Batch.MaxBytes = APILimitBytes + 1 }, want: []string{"batch.max_bytes"}},
		{name: "max bytes tiny", edit: func(c *Config) { c.Batch.MaxBytes, c.Batch.MaxUncompressedBytes = 100, 4096 }, want: []string{"batch.max_bytes"}},
		{name: "uncompressed below max bytes", edit: func(c *Config) { c.Batch.MaxUncompressedBytes = 4096 }, want: []string{"batch.max_uncompressed_bytes"}},
		{name: "uncompressed too large", edit: func(c *Config) { c.Batch.MaxUncompressedBytes = 50 << 20 }, want: []string{"batch.max_uncompressed_bytes"}},
		{name: "negative max records", edit: func(c *Config) { c.Batch.MaxRecords = -1 }, want: []string{"batch.max_records"}},
		{name: "negative flush delay", edit: func(c *Config) { c.Batch.FlushDelay = -time.Second }, want: []string{"batch.flush_delay"}},
		{name: "unknown compression", edit: func(c *Config) { c.Batch.Compression = "zstd" }, want: []string{"batch.compression"}},
		{name: "field limit over the API's", edit: func(c *Config) { c.Batch.MaxFieldBytes = APIFieldLimitBytes + 1 }, want: []string{"batch.max_field_bytes"}},
		{name: "field limit tiny", edit: func(c *Config) { c.Batch.MaxFieldBytes = 100 }, want: []string{"batch.max_field_bytes"}},
		{name: "no attempts", edit: func(c *Config) { c.Retry.MaxAttempts = -1 }, want: []string{"retry.max_attempts"}},
		{name: "backoff bounds crossed", edit: func(c *Config) { c.Retry.MinBackoff, c.Retry.MaxBackoff = time.Minute, time.Second }, want: []string{"retry.max_backoff"}},
		{name: "negative backoff", edit: func(c *Config) { c.Retry.MinBackoff = -time.Second }, want: []string{"retry.max_backoff"}},
		{name: "negative retry-after cap", edit: func(c *Config) { c.Retry.MaxRetryAfter = -time.Second }, want: []string{"retry.max_retry_after"}},

		{name: "several problems at once", edit: func(c *Config) {
			c.Name, c.Stream, c.Batch.Compression = "", "Table_CL", "br"
		}, want: []string{"name", "stream", "batch.compression"}},
		{name: "zero config without defaults", noDefaults: true, edit: func(c *Config) { *c = Config{} },
			want: []string{"name", "endpoint", "dcr_immutable_id", "stream", "profile", "cloud.name", "credential.type",
				"timeout", "batch.max_bytes", "batch.compression", "batch.max_field_bytes", "retry.max_attempts",
				"retry.max_backoff", "retry.max_retry_after"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.edit(&c)
			if !tt.noDefaults {
				c = c.WithDefaults()
			}
			ps := c.Validate()
			var got []string
			for _, p := range ps {
				got = append(got, p.Field)
				if p.Msg == "" {
					t.Errorf("%s: empty message", p.Field)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems in %v, want %v:\n%v", got, tt.want, ps)
			}
		})
	}
}

func TestConfig_ValidateRedactsEndpoint(t *testing.T) {
	c := validConfig()
	c.Endpoint = "http://otbridge:hunter2@dce.example/?sig=s3cret"
	c = c.WithDefaults()
	for _, p := range c.Validate() {
		if strings.Contains(p.Msg, "hunter2") || strings.Contains(p.Msg, "s3cret") {
			t.Errorf("%s: a secret of the endpoint URL is in %q", p.Field, p.Msg)
		}
	}
}

func TestConfig_WithDefaults(t *testing.T) {
	tests := []struct {
		cloud        CloudConfig
		wantAudience string
		wantNoIDisc  bool
	}{
		{CloudConfig{}, "https://monitor.azure.com", false},
		{CloudConfig{Name: CloudUSGov}, "https://monitor.azure.us", false},
		{CloudConfig{Name: CloudChina}, "https://monitor.azure.cn", false},
		{CloudConfig{Name: CloudPublic, Audience: "https://monitor.azure.com/"}, "https://monitor.azure.com/", false},
		{CloudConfig{Name: CloudCustom, AuthorityHost: "https://login.example", Audience: "https://m.example"}, "https://m.example", true},
	}
	for _, tt := range tests {
		c := Config{Cloud: tt.cloud}.WithDefaults()
		if c.Cloud.Audience != tt.wantAudience || c.Credential.DisableInstanceDiscovery != tt.wantNoIDisc {
			t.Errorf("%+v: audience %q, instance discovery disabled %t; want %q, %t",
				tt.cloud, c.Cloud.Audience, c.Credential.DisableInstanceDiscovery, tt.wantAudience, tt.wantNoIDisc)
		}
	}

	c := Config{}.WithDefaults()
	if c.Profile != ProfileCompatible || c.Credential.Type != CredentialDefault || c.Timeout != 30*time.Second ||
		c.Batch.MaxBytes != APILimitBytes || c.Batch.MaxUncompressedBytes != 10<<20 || c.Batch.Compression != "gzip" ||
		c.Batch.MaxFieldBytes != APIFieldLimitBytes || c.Batch.FlushDelay != 2*time.Second || c.Retry.MaxAttempts != 8 ||
		c.Retry.MinBackoff != time.Second || c.Retry.MaxBackoff != 2*time.Minute || c.Retry.MaxRetryAfter != 5*time.Minute ||
		c.Table != "OTBridgeAlerts_CL" {
		t.Errorf("defaults: %+v", c)
	}
	if again := c.WithDefaults(); again != c {
		t.Error("WithDefaults is not idempotent")
	}
}
