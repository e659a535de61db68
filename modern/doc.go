// Package modern is the Azure side of otbridge: the Azure Monitor Logs
// Ingestion API destination that replaces the legacy Sentinel CEF proxy.
//
// A destination is configured by Config. Its pieces are kept apart so each
// can be tested on its own: credentials (azidentity), row mapping profiles
// that turn a bridge.Alert into the JSON row a data collection rule (DCR)
// expects, batching within the API's limits, and the sender that posts
// batches through go-retryablehttp and classifies every answer.
package modern
