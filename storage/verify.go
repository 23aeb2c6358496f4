package storage

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
)

// digests computes, in one pass, the SHA-1 every download gets (the
// cache's key) and the CRC the server gave for the whole object (CRC64NVME,
// S3's default, CRC32 or CRC32C), if it gave one, to check the bytes
// against.
type digests struct {
	sha1  hash.Hash
	crc   hash.Hash
	want  string // the server's CRC: base64 of its bytes, big-endian
	which string // its name, for messages
}

// crc64NVME is the NVME polynomial, reversed as hash/crc64 takes it (the
// AWS SDK computes CRC64NVME the same way).
const crc64NVME = 0x9a6c_9329_ac4b_c9b5

var crc64NVMETable = crc64.MakeTable(crc64NVME)

func newDigests(info Info) *digests {
	d := &digests{sha1: sha1.New()}
	switch {
	case info.CRC64NVME != "":
		d.crc, d.want, d.which = crc64.New(crc64NVMETable), info.CRC64NVME, "CRC64NVME"
	case info.CRC32 != "":
		d.crc, d.want, d.which = crc32.NewIEEE(), info.CRC32, "CRC32"
	case info.CRC32C != "":
		d.crc, d.want, d.which = crc32.New(crc32.MakeTable(crc32.Castagnoli)), info.CRC32C, "CRC32C"
	}
	return d
}

// writer is where the bytes go, in order.
func (d *digests) writer() io.Writer {
	if d.crc == nil {
		return d.sha1
	}
	return io.MultiWriter(d.sha1, d.crc)
}

// check returns the hex SHA-1, or an error if the server's CRC differs
// from the bytes'.
func (d *digests) check() (string, error) {
	if d.crc != nil {
		if got := base64.StdEncoding.EncodeToString(d.crc.Sum(nil)); got != d.want {
			return "", fmt.Errorf("the bytes received have %s %s, but the server says the object's is %s", d.which, got, d.want)
		}
	}
	return hex.EncodeToString(d.sha1.Sum(nil)), nil
}
