// Package evtx reads Windows event log files (.evtx) without cgo or an
// outside parser. Each event record becomes an ecs.Event in the Winlogbeat
// shape, with the fields and value types that sensors/logparse gives the
// evtx_dump JSON of the same record. A Sigma rule therefore matches a .evtx
// file and its JSON rendering alike.
//
// A file is a 4096-byte file header followed by 64 KiB chunks. Each chunk
// ("ElfChnk\x00") has a 512-byte header with CRC32 checksums of the header
// and of its event records, a string table and a template table, and then
// event records ("**\x00\x00") whose body is Binary XML. The reader checks
// both checksums of every chunk: a chunk that fails them is skipped and
// counted in Stats.BadChunks, and a record that cannot be decoded is skipped
// and counted in Stats.BadRecords. Damaged input never makes the reader
// panic.
//
// Binary XML is decoded into a small element tree. Template definitions are
// parsed once per chunk and cached by their chunk offset, as are element and
// attribute names; a template instance fills the cached definition with its
// substitution values.
package evtx
