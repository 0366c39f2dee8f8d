package packet

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/google/gopacket/layers"
)

// ctxCheckEvery is how many packets pass between context checks.
const ctxCheckEvery = 4096

// readAll feeds every packet of a capture into the engine and flushes it
// at the end. A file cut inside its last packet (a capture that was
// killed) ends the read without an error: the partial packet counts as a
// decode error. Other read errors are returned with the packet index,
// after the flows seen so far were flushed.
func readAll(ctx context.Context, cr *captureReader, eng *engine, afterPacket func() error) error {
	var index uint64
	defer eng.flush()
	for {
		data, ci, err := cr.src.ZeroCopyReadPacketData()
		if err != nil {
			if err == io.EOF {
				return nil
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				eng.stats.Packets++
				eng.stats.DecodeErrors++
				return nil
			}
			return fmt.Errorf("read packet %d: %w", index+1, err)
		}
		index++
		eng.packet(index, &ci, cr.linkType(&ci), data)
		if afterPacket != nil {
			if err := afterPacket(); err != nil {
				return err
			}
		}
		if index%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
}

// decodeOne runs one packet through a fresh decoder; it is the entry point
// of FuzzDecodePacket and of the malformed-packet tests.
func decodeOne(lt layers.LinkType, data []byte) (packetInfo, error) {
	var info packetInfo
	err := newDecoder().decode(lt, data, &info)
	return info, err
}
