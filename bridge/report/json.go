package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/otbridge/otbridge/bridge"
)

// JSON writes the plan as indented JSON, exactly as its struct tags say:
// the report's schema, version bridge.PlanSchemaVersion. Characters such
// as <, > and & are written as they are, not as \u escapes. The order is
// the plan's; map keys are sorted.
func JSON(w io.Writer, p *bridge.Plan) error {
	if p == nil {
		return errNilPlan
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	return write(w, "json", b.Bytes())
}
