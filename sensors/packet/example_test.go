package packet_test

import (
	"fmt"

	"github.com/canhgac/canhgac/sensors/packet"
)

func ExampleSummarizeFile() {
	s, err := packet.SummarizeFile("../../../shared/data/pcap/zeek-traces/tls_chrome-1250-tls-x25519-kyber.pcap", packet.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Format, s.Packets, s.Flows)
	for _, h := range s.TLSClientHellos {
		fmt.Println(h.SNI, h.Version, h.JA4)
	}
	// Output:
	// pcap 15 1
	// lh3.google.com TLS 1.3 t13d1516h2_8daaf6152771_02713d6af862
}
