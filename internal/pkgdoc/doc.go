// Package pkgdoc holds repository-wide checks on the source itself: every package
// states what it owns in a package doc comment.
package pkgdoc
