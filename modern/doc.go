// Package modern is the Azure side of otbridge: the Azure Monitor Logs
// Ingestion API destination that replaces the legacy Sentinel CEF proxy.
//
// It is empty for now. It will hold the destination's configuration, the
// azidentity credentials, batching within the API's limits, the sender with
// its retry policy, and the row mapping profiles; see the README's status
// table.
package modern
