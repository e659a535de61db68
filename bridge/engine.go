package bridge

import (
	"fmt"
	"strings"
)

// Engine is the Defender for IoT detection engine that raised an alert, in
// the sensor's display form ("Protocol Violation").
type Engine string

// The sensor's engines.
const (
	EngineProtocolViolation Engine = "Protocol Violation"
	EnginePolicyViolation   Engine = "Policy Violation"
	EngineMalware           Engine = "Malware"
	EngineAnomaly           Engine = "Anomaly"
	EngineOperational       Engine = "Operational"
)

// Engines lists the known engines in the sensor UI's order.
var Engines = []Engine{EngineProtocolViolation, EnginePolicyViolation, EngineMalware, EngineAnomaly, EngineOperational}

// ParseEngine reads an engine in any of the spellings sources use: the
// display form ("Policy Violation"), the API enum ("POLICY_VIOLATION"), or
// the run-together form ("PolicyViolation"), ignoring case. Older sensors
// call the operational engine "Operational Engine"; that is accepted too.
func ParseEngine(s string) (Engine, error) {
	norm := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
	switch norm {
	case "protocolviolation":
		return EngineProtocolViolation, nil
	case "policyviolation":
		return EnginePolicyViolation, nil
	case "malware":
		return EngineMalware, nil
	case "anomaly":
		return EngineAnomaly, nil
	case "operational", "operationalengine":
		return EngineOperational, nil
	}
	return "", fmt.Errorf("unknown engine %q (want one of %s)", s, joinEngines())
}

func joinEngines() string {
	names := make([]string, len(Engines))
	for i, e := range Engines {
		names[i] = string(e)
	}
	return strings.Join(names, ", ")
}
