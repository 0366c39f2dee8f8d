package filesource

// SeqIndex maps the byte offsets of lines to their line numbers until the
// decoder has emitted the records that start there. A record carries only
// the offset of its first line; an auditd event may start several lines
// before the line that completes it.
type SeqIndex struct {
	seqs map[int64]uint64
}

// NewSeqIndex returns an empty index.
func NewSeqIndex() *SeqIndex { return &SeqIndex{seqs: make(map[int64]uint64)} }

// Add records that the line at offset has number seq.
func (x *SeqIndex) Add(offset int64, seq uint64) { x.seqs[offset] = seq }

// Lookup returns the number of the line at offset, 0 when unknown.
func (x *SeqIndex) Lookup(offset int64) uint64 { return x.seqs[offset] }

// pendingDecoder reports the offset of the oldest line a decoder still holds.
type pendingDecoder interface {
	Pending() (offset int64, ok bool)
}

// Prune forgets the lines the decoder no longer holds, keeping the index as
// small as the decoder's window.
func (x *SeqIndex) Prune(dec pendingDecoder) {
	oldest, ok := dec.Pending()
	for off := range x.seqs {
		if !ok || off < oldest {
			delete(x.seqs, off)
		}
	}
}
