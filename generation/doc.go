// Package generation is the build pipeline of blindlist: block and allow
// lists (package blocklist) are compiled into the device's key space, then
// written in one pass as the Bloom prefilter (package bloom), the key files,
// the keyword-PIR shards in Apple's PIRProcessDatabase layout (package pir)
// and the manifests that describe them.
//
// For most uses, call Build with a Config naming the sources:
//
//	res, err := generation.Build(ctx, "out", generation.Config{
//		Block:     []blocklist.Source{src},
//		Tolerance: 0.001,
//	})
//
// A build into a directory that holds an earlier build with the same PIR
// settings and shard count reprocesses only the shards whose keys changed
// (see PIRManifest). A failure anywhere leaves the directory as it was.
//
// A generation is verified against its manifest (the size and SHA-256 of
// every file) before it is served (OpenID). Hashing is paid once per file
// version: the build, and any full check, record each file's identity (size,
// device, inode, mtime, ctime) in a verification stamp beside the
// generation directory, and a later open trusts a file only while all of
// it still matches (stamp.go). The stamp catches truncation, replacement
// and any write through the file system; it cannot see a change that
// bypasses the file system (media bit rot), which OpenIDFull ('blindlist
// generations verify') checks by hashing every file.
//
// The CLI ('blindlist build') and the refresh loop of 'blindlist serve' both
// call this package; it sits above bloom, blocklist and pir and below api
// and cmd (shared/style.md §2.1).
package generation
