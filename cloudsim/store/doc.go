// Package store owns the cloud simulator's durable state: one bbolt file in the data
// directory holding JSON records in named buckets.
//
// The store knows nothing about sites or roles; it offers transactions over keyed JSON
// records so that every multi-record rule (one Site Manager per site, inventory counts)
// is checked and written atomically by the caller inside one Update.
//
// # Format
//
// Bucket "meta" key "format" holds the on-disk format version ([FormatVersion]). Open
// refuses a file written by a newer format rather than misreading it.
package store
