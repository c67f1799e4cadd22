// Package pkgdoc holds a repository-wide test: every Go package in Realm has
// exactly one package doc comment (a long one in doc.go), as the style guide
// asks. It has no code of its own.
package pkgdoc
