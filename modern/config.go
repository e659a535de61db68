package modern

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

// The API's documented limits (see the README's "Logs Ingestion API").
const (
	// APILimitBytes is the most the API takes in one call, compressed or
	// not.
	APILimitBytes = 1 << 20
	// APIFieldLimitBytes is the most the API keeps of one field value;
	// longer values are truncated by the service.
	APIFieldLimitBytes = 64 << 10
	// APIVersion is the api-version of every request.
	APIVersion = "2023-01-01"
)

// The row mapping profiles.
const (
	ProfileCompatible = "commonsecuritylog-compatible"
	ProfileEnriched   = "commonsecuritylog-enriched"
	ProfileCustom     = "custom-table"
)

// Profiles lists the row mapping profiles.
var Profiles = []string{ProfileCompatible, ProfileEnriched, ProfileCustom}

// The credential types.
const (
	CredentialDefault           = "default"
	CredentialClientSecret      = "client-secret"
	CredentialClientCertificate = "client-certificate"
	CredentialManagedIdentity   = "managed-identity"
	CredentialWorkloadIdentity  = "workload-identity"
	CredentialAzureCLI          = "azure-cli"
)

// CredentialTypes lists the credential types.
var CredentialTypes = []string{
	CredentialDefault, CredentialClientSecret, CredentialClientCertificate,
	CredentialManagedIdentity, CredentialWorkloadIdentity, CredentialAzureCLI,
}

// The clouds.
const (
	CloudPublic = "public"
	CloudUSGov  = "usgov"
	CloudChina  = "china"
	CloudCustom = "custom"
)

// Config is one Logs Ingestion API destination. Zero fields take the
// default named in their comment (see WithDefaults).
type Config struct {
	// Name is what routes call the destination. Required.
	Name string `mapstructure:"name"`
	// Endpoint is the data collection endpoint (DCE) or, for a DCR of kind
	// Direct, the DCR's logsIngestion endpoint. https. Required.
	Endpoint string `mapstructure:"endpoint"`
	// DCRImmutableID is the DCR's immutable id, "dcr-" and 32 hex digits.
	// Required.
	DCRImmutableID string `mapstructure:"dcr_immutable_id"`
	// Stream is the DCR input stream, "Custom-...". Required.
	Stream string `mapstructure:"stream"`
	// Profile is the row mapping. Default commonsecuritylog-compatible.
	Profile string `mapstructure:"profile"`
	// Table is the custom-table profile's table, ending in _CL. Default
	// OTBridgeAlerts_CL.
	Table string `mapstructure:"table"`

	Cloud      CloudConfig      `mapstructure:"cloud"`
	Credential CredentialConfig `mapstructure:"credential"`

	// CABundleFile is a PEM file of extra root certificates trusted for the
	// token endpoint and the ingestion endpoint (an inspecting proxy's CA).
	// The system roots stay trusted. Optional. HTTPS_PROXY and NO_PROXY
	// are honoured.
	CABundleFile string `mapstructure:"ca_bundle_file"`
	// Timeout bounds one HTTP request. Default 30s.
	Timeout time.Duration `mapstructure:"timeout"`

	Batch BatchConfig `mapstructure:"batch"`
	Retry RetryConfig `mapstructure:"retry"`
}

// CloudConfig says which Azure cloud the workspace lives in.
type CloudConfig struct {
	// Name is public, usgov, china or custom. Default public.
	Name string `mapstructure:"name"`
	// AuthorityHost is the Entra ID authority, https, for a custom cloud
	// (required there, refused elsewhere).
	AuthorityHost string `mapstructure:"authority_host"`
	// Audience is the token audience of Azure Monitor. Default by cloud:
	// https://monitor.azure.com, https://monitor.azure.us,
	// https://monitor.azure.cn; required for a custom cloud.
	Audience string `mapstructure:"audience"`
}

// CredentialConfig says how otbridge gets its Entra ID token. Secrets are
// never written here: they are read from a file or an environment
// variable named here.
type CredentialConfig struct {
	// Type is default, client-secret, client-certificate,
	// managed-identity, workload-identity or azure-cli. Default default
	// (the Azure SDK's chain: environment, workload identity, managed
	// identity, Azure CLI, Azure Developer CLI).
	Type string `mapstructure:"type"`
	// TenantID and ClientID identify the app registration (client-secret,
	// client-certificate, workload-identity).
	TenantID string `mapstructure:"tenant_id"`
	ClientID string `mapstructure:"client_id"`
	// ClientSecretFile or ClientSecretEnv holds the client secret
	// (client-secret): exactly one of them.
	ClientSecretFile string `mapstructure:"client_secret_file"`
	ClientSecretEnv  string `mapstructure:"client_secret_env"`
	// CertificateFile is a PEM or PKCS#12 (PFX) file with the certificate
	// and its private key (client-certificate). Its password, if any, is
	// in CertificatePasswordFile or CertificatePasswordEnv.
	CertificateFile         string `mapstructure:"certificate_file"`
	CertificatePasswordFile string `mapstructure:"certificate_password_file"`
	CertificatePasswordEnv  string `mapstructure:"certificate_password_env"`
	// SendCertificateChain sends the x5c header (subject name/issuer
	// authentication). Default false.
	SendCertificateChain bool `mapstructure:"send_certificate_chain"`
	// ManagedIdentityClientID or ManagedIdentityResourceID pick a
	// user-assigned identity (managed-identity); neither is the system
	// identity.
	ManagedIdentityClientID   string `mapstructure:"managed_identity_client_id"`
	ManagedIdentityResourceID string `mapstructure:"managed_identity_resource_id"`
	// TokenFile is the federated token file (workload-identity). Default
	// the AZURE_FEDERATED_TOKEN_FILE environment variable.
	TokenFile string `mapstructure:"token_file"`
	// DisableInstanceDiscovery skips Entra ID instance discovery, for
	// private and disconnected clouds. Default false (true for custom).
	DisableInstanceDiscovery bool `mapstructure:"disable_instance_discovery"`
}

// BatchConfig bounds the requests the destination sends.
type BatchConfig struct {
	// MaxBytes is the most one request body may be on the wire (after
	// gzip). Default and maximum 1048576, the API's limit.
	MaxBytes int `mapstructure:"max_bytes"`
	// MaxUncompressedBytes is the most one body may be before gzip; the
	// service rejects large decompressed bodies (about 50 MiB) on its
	// own. Default 10485760 (10 MiB).
	MaxUncompressedBytes int `mapstructure:"max_uncompressed_bytes"`
	// MaxRecords is the most rows in one request. Default 0: no bound
	// beyond the byte bounds (the API documents none).
	MaxRecords int `mapstructure:"max_records"`
	// FlushDelay is how long a partial batch waits for more rows. Default
	// 2s.
	FlushDelay time.Duration `mapstructure:"flush_delay"`
	// Compression is gzip or none. Default gzip.
	Compression string `mapstructure:"compression"`
	// MaxFieldBytes is where a field value is truncated, on purpose and
	// counted, before the service would do it silently. Default and
	// maximum 65536.
	MaxFieldBytes int `mapstructure:"max_field_bytes"`
}

// RetryConfig bounds retries of one batch.
type RetryConfig struct {
	// MaxAttempts is the most attempts of one request, the first included,
	// before the failure is handed back (the caller keeps the data).
	// Default 8.
	MaxAttempts int `mapstructure:"max_attempts"`
	// MinBackoff and MaxBackoff bound the exponential, jittered wait
	// between attempts. Defaults 1s and 2m.
	MinBackoff time.Duration `mapstructure:"min_backoff"`
	MaxBackoff time.Duration `mapstructure:"max_backoff"`
	// MaxRetryAfter caps a Retry-After wait the service asks for on 429
	// and 503; a longer ask waits this long. Default 5m.
	MaxRetryAfter time.Duration `mapstructure:"max_retry_after"`
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
	def(&c.Profile, ProfileCompatible)
	def(&c.Table, "OTBridgeAlerts_CL")
	def(&c.Cloud.Name, CloudPublic)
	def(&c.Credential.Type, CredentialDefault)
	defDur(&c.Timeout, 30*time.Second)
	defInt(&c.Batch.MaxBytes, APILimitBytes)
	defInt(&c.Batch.MaxUncompressedBytes, 10<<20)
	defDur(&c.Batch.FlushDelay, 2*time.Second)
	def(&c.Batch.Compression, "gzip")
	defInt(&c.Batch.MaxFieldBytes, APIFieldLimitBytes)
	defInt(&c.Retry.MaxAttempts, 8)
	defDur(&c.Retry.MinBackoff, time.Second)
	defDur(&c.Retry.MaxBackoff, 2*time.Minute)
	defDur(&c.Retry.MaxRetryAfter, 5*time.Minute)
	if c.Cloud.Audience == "" {
		c.Cloud.Audience = map[string]string{
			CloudPublic: "https://monitor.azure.com",
			CloudUSGov:  "https://monitor.azure.us",
			CloudChina:  "https://monitor.azure.cn",
		}[c.Cloud.Name]
	}
	if c.Cloud.Name == CloudCustom {
		c.Credential.DisableInstanceDiscovery = true
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
	if u, err := url.Parse(c.Endpoint); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		add("endpoint", "%q is not an https URL: use the data collection endpoint or the DCR's logsIngestion endpoint", redactURL(c.Endpoint))
	}
	if !isDCRID(c.DCRImmutableID) {
		add("dcr_immutable_id", "%q is not a DCR immutable id: dcr- and 32 hex digits (the DCR's JSON view in the portal, immutableId)", c.DCRImmutableID)
	}
	if !strings.HasPrefix(c.Stream, "Custom-") && !strings.HasPrefix(c.Stream, "Microsoft-") {
		add("stream", "%q is not a DCR input stream: it starts with Custom- (the stream declared in the DCR, not the table)", c.Stream)
	}
	if !slices.Contains(Profiles, c.Profile) {
		add("profile", "unknown profile %q (want %s)", c.Profile, strings.Join(Profiles, ", "))
	}
	if c.Profile == ProfileCustom && (!strings.HasSuffix(c.Table, "_CL") || len(c.Table) <= 3) {
		add("table", "%q is not a custom table name: it ends in _CL", c.Table)
	}

	switch c.Cloud.Name {
	case CloudPublic, CloudUSGov, CloudChina:
		if c.Cloud.AuthorityHost != "" {
			add("cloud.authority_host", "only for the custom cloud: the %s cloud has its own", c.Cloud.Name)
		}
	case CloudCustom:
		if u, err := url.Parse(c.Cloud.AuthorityHost); err != nil || u.Scheme != "https" || u.Host == "" {
			add("cloud.authority_host", "the custom cloud needs the https URL of its Entra ID authority")
		}
		if u, err := url.Parse(c.Cloud.Audience); err != nil || u.Scheme != "https" || u.Host == "" {
			add("cloud.audience", "the custom cloud needs the https token audience of its Azure Monitor")
		}
	default:
		add("cloud.name", "unknown cloud %q (want public, usgov, china or custom)", c.Cloud.Name)
	}

	ps = append(ps, c.Credential.validate()...)

	if c.Timeout < time.Second {
		add("timeout", "%v is too short: at least 1s", c.Timeout)
	}
	b := c.Batch
	if b.MaxBytes < 4096 || b.MaxBytes > APILimitBytes {
		add("batch.max_bytes", "%d is out of range: 4096 to %d (the API's limit)", b.MaxBytes, APILimitBytes)
	}
	if b.MaxUncompressedBytes < b.MaxBytes || b.MaxUncompressedBytes > 40<<20 {
		add("batch.max_uncompressed_bytes", "%d is out of range: from batch.max_bytes to %d (the service refuses bodies that decompress to about 50 MiB)", b.MaxUncompressedBytes, 40<<20)
	}
	if b.MaxRecords < 0 {
		add("batch.max_records", "must not be negative (0: no bound)")
	}
	if b.FlushDelay < 0 {
		add("batch.flush_delay", "must not be negative")
	}
	if b.Compression != "gzip" && b.Compression != "none" {
		add("batch.compression", "unknown compression %q (want gzip or none)", b.Compression)
	}
	if b.MaxFieldBytes < 1024 || b.MaxFieldBytes > APIFieldLimitBytes {
		add("batch.max_field_bytes", "%d is out of range: 1024 to %d", b.MaxFieldBytes, APIFieldLimitBytes)
	}
	r := c.Retry
	if r.MaxAttempts < 1 {
		add("retry.max_attempts", "must be at least 1")
	}
	if r.MinBackoff <= 0 || r.MaxBackoff < r.MinBackoff {
		add("retry.max_backoff", "backoff bounds must be positive with min_backoff <= max_backoff")
	}
	if r.MaxRetryAfter <= 0 {
		add("retry.max_retry_after", "must be positive")
	}
	return ps
}

func (cc *CredentialConfig) validate() []FieldProblem {
	var ps bridge.FieldProblems
	add := func(field, format string, args ...any) { ps.Add("credential."+field, format, args...) }
	need := func(field, value, what string) {
		if value == "" {
			add(field, "missing: %s needs %s", cc.Type, what)
		}
	}
	// atMostOne checks a secret given by file or by environment variable.
	atMostOne := func(fileField, file, envField, env, what string) {
		if file != "" && env != "" {
			add(fileField, "give %s in %s or in %s, not both", what, fileField, envField)
		}
	}

	switch cc.Type {
	case CredentialDefault, CredentialAzureCLI:
	case CredentialClientSecret:
		need("tenant_id", cc.TenantID, "the directory (tenant) id")
		need("client_id", cc.ClientID, "the application (client) id")
		atMostOne("client_secret_file", cc.ClientSecretFile, "client_secret_env", cc.ClientSecretEnv, "the client secret")
		if cc.ClientSecretFile == "" && cc.ClientSecretEnv == "" {
			add("client_secret_file", "missing: name the file that holds the client secret, or set client_secret_env to the variable that does; never write the secret itself in the config")
		}
	case CredentialClientCertificate:
		need("tenant_id", cc.TenantID, "the directory (tenant) id")
		need("client_id", cc.ClientID, "the application (client) id")
		need("certificate_file", cc.CertificateFile, "a PEM or PFX file with the certificate and its private key")
		atMostOne("certificate_password_file", cc.CertificatePasswordFile, "certificate_password_env", cc.CertificatePasswordEnv, "the certificate password")
	case CredentialManagedIdentity:
		if cc.ManagedIdentityClientID != "" && cc.ManagedIdentityResourceID != "" {
			add("managed_identity_client_id", "name a user-assigned identity by client id or by resource id, not both")
		}
	case CredentialWorkloadIdentity:
	default:
		add("type", "unknown credential type %q (want %s)", cc.Type, strings.Join(CredentialTypes, ", "))
	}
	return ps
}

func isDCRID(s string) bool {
	hex, ok := strings.CutPrefix(s, "dcr-")
	if !ok || len(hex) != 32 {
		return false
	}
	for _, c := range hex {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// redactURL drops the user information and query of a URL for messages:
// either may carry a secret.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "redacted"
	}
	return u.String()
}

// RowMapper turns alerts into the JSON rows of one profile. Implementations
// are pure and safe for concurrent use.
type RowMapper interface {
	// AppendRow appends the alert's row, one JSON object, to dst. path is
	// the path the row is written for (rows record which path wrote them).
	// It reports how many field values it truncated to the field limit.
	AppendRow(dst []byte, a *bridge.Alert, path bridge.Path) (row []byte, truncated int, err error)
}
