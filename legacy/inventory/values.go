package inventory

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	// Timezone names must load the same on a machine without a zoneinfo
	// database, such as a scratch container.
	_ "time/tzdata"
)

// secretWords are key words that mark a value as a credential.
var secretWords = map[string]bool{
	"password": true, "passwd": true, "pwd": true, "pass": true, "passphrase": true,
	"secret": true, "secrets": true, "token": true, "key": true, "apikey": true,
	"credential": true, "credentials": true, "authorization": true, "cookie": true,
}

// secretParts catch the same words run together with others ("clientsecret").
var secretParts = []string{"password", "passwd", "passphrase", "secret", "token", "apikey", "privatekey", "accesskey", "credential"}

// looksSecret reports whether a key names a credential held inline: any key
// with a word such as password, secret, token, passphrase or key in it,
// unless it ends in "_file" and so names the file that holds the value.
func looksSecret(key string) bool {
	if strings.HasSuffix(strings.ToLower(key), "_file") {
		return false
	}
	words := splitWords(key)
	for _, w := range words {
		if secretWords[w] {
			return true
		}
	}
	joined := strings.Join(words, "")
	for _, part := range secretParts {
		if strings.Contains(joined, part) {
			return true
		}
	}
	return false
}

// splitWords cuts a key into lower-case words at separators and at
// camelCase humps: "X-Api-Key" and "apiKey" both give "api" and "key".
func splitWords(s string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	prevLower := false
	for _, r := range s {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			flush()
		}
		cur = append(cur, r)
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	flush()
	return words
}

// secretValue returns a problem message when a value is itself plainly a
// credential, whatever key holds it: a PEM private key or an HTTP
// Authorization value.
func secretValue(s string) string {
	lower := strings.ToLower(s)
	switch {
	case strings.Contains(s, "PRIVATE KEY-----"):
		return "inline secret (a private key): put it in a file and name the file"
	case strings.HasPrefix(lower, "bearer ") || strings.HasPrefix(lower, "basic "):
		return "inline secret (a credential): put it in a file and name the file"
	}
	return ""
}

// LoadTimezone returns the location of an action's timezone setting: an
// IANA name ("Europe/Berlin", "UTC") or a fixed offset from UTC as the
// appliance UI lists it ("UTC+02:00", "UTC-05:30", "GMT+1", or a whole
// label such as "(UTC+01:00) Amsterdam, Berlin"). A fixed offset does not
// follow daylight saving time, just as on the appliance.
func LoadTimezone(s string) (*time.Location, error) {
	_, loc, err := parseTimezone(s)
	return loc, err
}

// parseTimezone reads a timezone setting and returns its canonical
// spelling, which is what the inventory stores: IANA names as given,
// offsets as "UTC+hh:mm".
func parseTimezone(s string) (string, *time.Location, error) {
	s = strings.TrimSpace(s)
	if name, loc, ok, err := parseOffset(s); ok {
		return name, loc, err
	}
	if s == "" || s == "Local" {
		return "", nil, fmt.Errorf("unknown timezone %s: use an IANA name such as \"Europe/Berlin\" or an offset such as \"UTC+01:00\"", short(s))
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return "", nil, fmt.Errorf("unknown timezone %s: use an IANA name such as \"Europe/Berlin\" or an offset such as \"UTC+01:00\"", short(s))
	}
	return s, loc, nil
}

// parseOffset reads "UTC", "UTC+h", "UTC+hh", "UTC+hhmm" or "UTC+hh:mm"
// (GMT for UTC, and either minus sign allowed), optionally inside
// parentheses before a label. ok is false when s is not of that shape.
func parseOffset(s string) (name string, loc *time.Location, ok bool, err error) {
	if strings.HasPrefix(s, "(") {
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return "", nil, false, nil
		}
		s = s[1:end]
	}
	upper := strings.ToUpper(s)
	if !strings.HasPrefix(upper, "UTC") && !strings.HasPrefix(upper, "GMT") {
		return "", nil, false, nil
	}
	rest := strings.ReplaceAll(s[3:], "\u2212", "-")
	if rest == "" {
		return "UTC", time.UTC, true, nil
	}
	if rest[0] != '+' && rest[0] != '-' {
		return "", nil, false, nil
	}

	bad := fmt.Errorf("invalid UTC offset %s: write it as UTC+hh:mm or UTC-hh:mm, between UTC-12:00 and UTC+14:00", short(s))
	sign, digits := rest[0], rest[1:]
	hh, mm, found := strings.Cut(digits, ":")
	if !found && len(digits) > 2 {
		hh, mm = digits[:len(digits)-2], digits[len(digits)-2:]
	}
	if hh == "" || len(hh) > 2 || (mm != "" && len(mm) != 2) || (found && mm == "") {
		return "", nil, true, bad
	}
	h, err1 := strconv.Atoi(hh)
	m := 0
	var err2 error
	if mm != "" {
		m, err2 = strconv.Atoi(mm)
	}
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 {
		return "", nil, true, bad
	}
	secs := h*3600 + m*60
	if sign == '-' {
		secs = -secs
	}
	if secs < -12*3600 || secs > 14*3600 {
		return "", nil, true, bad
	}
	if secs == 0 {
		return "UTC", time.UTC, true, nil
	}
	name = fmt.Sprintf("UTC%c%02d:%02d", sign, h, m)
	return name, time.FixedZone(name, secs), true, nil
}

// hostProblem says what is wrong with a host setting, or "" when it is a
// plausible host name or IP address.
func hostProblem(h string) string {
	if strings.Contains(h, "://") {
		return "want a host name or IP address, not a URL: remove the scheme and any path"
	}
	if net.ParseIP(strings.Trim(h, "[]")) != nil {
		return ""
	}
	if host, port, err := net.SplitHostPort(h); err == nil && port != "" {
		return fmt.Sprintf("host includes a port: write host: %s and give the port under port", short(host))
	}
	if len(h) > 253 {
		return "host name is longer than 253 characters"
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return fmt.Sprintf("%s is not a valid host name or IP address", short(h))
		}
		for _, r := range label {
			if r > unicode.MaxASCII || !(r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
				return fmt.Sprintf("%s is not a valid host name or IP address", short(h))
			}
		}
	}
	return ""
}

// urlProblem says what is wrong with a webhook URL, or "". It never repeats
// the URL, which may carry a credential.
func urlProblem(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "not a valid URL: want http:// or https:// followed by the host and path"
	case u.Scheme != "http" && u.Scheme != "https":
		return "want an http:// or https:// URL"
	case u.Host == "":
		return "the URL has no host: want http:// or https:// followed by the host and path"
	}
	if _, ok := u.User.Password(); ok {
		return "inline secret (a password in the URL): put it in a file and name the file, as a header such as Authorization_file"
	}
	for k := range u.Query() {
		if looksSecret(k) {
			return fmt.Sprintf("inline secret (query parameter %s): put it in a file and name the file, as a header such as X-Api-Key_file", short(k))
		}
	}
	return ""
}

// parseEmail checks that s is exactly one mail address and returns the
// bare address, or a problem message.
func parseEmail(s string) (string, string) {
	if strings.ContainsAny(s, ",;") {
		return "", "one address per email action: add an email action for each address"
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", fmt.Sprintf("%s is not a valid email address: %v", short(s), strings.TrimPrefix(err.Error(), "mail: "))
	}
	return a.Address, ""
}

// validHeaderName reports whether s is an HTTP header field name.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}
