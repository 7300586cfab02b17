//go:build !unix

package filesource

import "io/fs"

// identityOf returns the zero identity where the platform has no inode
// numbers: files are then followed by path and content fingerprint only.
func identityOf(fs.FileInfo) identity { return identity{} }
