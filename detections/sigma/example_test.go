package sigma_test

import (
	"fmt"
	"time"

	"github.com/canhgac/canhgac/detections/sigma"
	"github.com/canhgac/canhgac/ecs"
)

func ExampleEngine() {
	rule := `title: Root login over SSH
id: 7d1c1f0e-2b1a-4c55-9a59-3f4f0d1b8a11
logsource:
    product: linux
    service: auth
detection:
    selection:
        event.action: ssh_login
        event.outcome: success
        user.name: root
    condition: selection
level: high
`
	rs, report, err := sigma.LoadBytes("example.yml", []byte(rule), sigma.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("loaded:", report.Loaded, "rejected:", len(report.Rejected))

	engine := sigma.NewEngine(rs, sigma.EngineOptions{})
	ev := &ecs.Event{
		Timestamp: time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC),
		Fields: ecs.Fields{
			"event.dataset": "system.auth",
			"event.action":  "ssh_login",
			"event.outcome": "success",
			"user.name":     "root",
			"source.ip":     "203.0.113.5",
		},
	}
	emit := func(d sigma.Detection) {
		fmt.Println(d.Title, d.Level, d.Fields["source.ip"])
		fmt.Println(d.Why)
	}
	engine.Process(ev, emit)
	engine.Flush(emit)
	// Output:
	// loaded: 1 rejected: 0
	// Root login over SSH high 203.0.113.5
	// [selection: event.action: "ssh_login" selection: event.outcome: "success" selection: user.name: "root"]
}
