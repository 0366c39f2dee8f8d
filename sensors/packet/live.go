package packet

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"golang.org/x/sys/unix"
)

// liveSnapLen is the capture length of a live capture: enough for the
// 64 KiB packets that GRO and loopback deliver.
const liveSnapLen = 1 << 16

// liveSweep is how often a live capture expires idle flows by the wall
// clock, so records of a quiet interface do not wait for the next packet.
const liveSweep = 5 * time.Second

// LiveSourceID returns the source id of a capture on iface started at
// start: "iface:NAME@START".
func LiveSourceID(iface string, start time.Time) string {
	return "iface:" + iface + "@" + start.UTC().Format(time.RFC3339Nano)
}

// Capture reads packets from a network interface with an AF_PACKET socket
// (Linux only, no libpcap) until ctx is done, then writes the open flows
// and returns. The source id is "iface:NAME@START", START being the UTC
// start time of the capture (RFC 3339), because packet positions restart
// with each capture and event ids must not repeat those of an earlier one.
//
// Capture needs root or CAP_NET_RAW; without them it returns an *Error for
// which IsPermission is true, naming the interface. An unknown interface
// returns the key packet.capture.no_interface.
//
// NOTE: pcapgo's handle has no read timeout, so after ctx is done the
// reading goroutine stays blocked until one more packet arrives on the
// interface; Capture itself returns at once and that packet is dropped.
func (s *Sensor) Capture(ctx context.Context, iface string) (Stats, error) {
	sourceID := LiveSourceID(iface, time.Now())
	if s.Emit == nil {
		return Stats{}, errors.New("packet sensor for " + sourceID + ": Emit is nil")
	}
	handle, err := openLive(iface)
	if err != nil {
		return Stats{}, err
	}
	link := interfaceLinkType(iface)
	log := s.logger().With("source", sourceID)
	log.Info("live capture started", "interface", iface, "link_type", link.String())

	sink := &eventSink{sourceID: sourceID, emit: s.Emit}
	eng := newEngine(s.Options, sink)
	var (
		mu      sync.Mutex // serializes the engine between reader and ticker
		stopped bool
		index   uint64
	)
	readErr := make(chan error, 1)
	go func() {
		defer handle.Close()
		for {
			data, ci, err := handle.ZeroCopyReadPacketData()
			mu.Lock()
			if stopped {
				mu.Unlock()
				return
			}
			if err != nil {
				mu.Unlock()
				readErr <- err
				return
			}
			index++
			eng.packet(index, &ci, link, data)
			failed := sink.err
			mu.Unlock()
			if failed != nil {
				readErr <- failed
				return
			}
		}
	}()

	tick := time.NewTicker(liveSweep)
	defer tick.Stop()
	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-readErr:
			runErr = err
			break loop
		case now := <-tick.C:
			mu.Lock()
			eng.expireIdle(now.UnixNano())
			mu.Unlock()
		}
	}
	mu.Lock()
	stopped = true
	eng.flush()
	stats := eng.stats
	emitErr := sink.err
	mu.Unlock()
	if emitErr != nil {
		log.Error("live capture stopped by an emit error", "interface", iface, "err", emitErr, "packets", stats.Packets)
		return stats, emitErr
	}
	if runErr != nil {
		log.Error("live capture read failed", "interface", iface, "err", runErr, "packets", stats.Packets)
		return stats, newError("packet.capture.read", runErr, iface)
	}
	log.Info("live capture stopped", "interface", iface, "packets", stats.Packets, "flows", stats.Flows,
		"decode_errors", stats.DecodeErrors)
	return stats, nil
}

// ARPHRD values (linux/if_arp.h) of interfaces whose AF_PACKET frames
// start with the IP header instead of an Ethernet header.
const (
	arphrdNone   = 65534 // tun devices, WireGuard
	arphrdIPGRE  = 778
	arphrdRawIP  = 519
	arphrdSIT    = 776
	arphrdTunnel = 768
)

// interfaceLinkType returns the link type of an interface's frames from
// /sys/class/net/NAME/type. Ethernet and loopback interfaces (loopback
// frames carry a zeroed Ethernet header) and unreadable types give
// Ethernet.
func interfaceLinkType(iface string) layers.LinkType {
	raw, err := os.ReadFile(filepath.Join("/sys/class/net", iface, "type"))
	if err != nil {
		return layers.LinkTypeEthernet
	}
	typ, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return layers.LinkTypeEthernet
	}
	switch typ {
	case arphrdNone, arphrdIPGRE, arphrdRawIP, arphrdSIT, arphrdTunnel:
		return layers.LinkTypeRaw
	}
	return layers.LinkTypeEthernet
}

// liveHandle is the part of pcapgo.EthernetHandle that Capture uses.
type liveHandle interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	Close()
}

// openLive opens an AF_PACKET handle. It first opens and closes a probe
// socket, because pcapgo reports a denied socket as text only and the user
// must learn that root or CAP_NET_RAW is missing.
func openLive(iface string) (liveHandle, error) {
	if _, err := net.InterfaceByName(iface); err != nil {
		return nil, newError("packet.capture.no_interface", err, iface)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, newError("packet.capture.permission", err, iface)
		}
		return nil, newError("packet.capture.open", err, iface)
	}
	unix.Close(fd)
	h, err := pcapgo.NewEthernetHandle(iface)
	if err != nil {
		return nil, newError("packet.capture.open", err, iface)
	}
	if err := h.SetCaptureLength(liveSnapLen); err != nil {
		h.Close()
		return nil, newError("packet.capture.open", err, iface)
	}
	return h, nil
}
