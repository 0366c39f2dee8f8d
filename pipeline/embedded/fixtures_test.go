package embedded

import (
	"testing"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline/kql/kqltest"
)

// The fixture events come from package kqltest, which the Elasticsearch
// conformance suite shares. sharedData is the shared real data folder,
// relative to this package.
const sharedData = "../../../shared/data"

func sshEvents(t testing.TB, max int) []*ecs.Event { return kqltest.SSHEvents(t, sharedData, max) }

func accessEvents(t testing.TB, max int) []*ecs.Event {
	return kqltest.AccessEvents(t, sharedData, max)
}

func windowsEvents(t testing.TB, max int) []*ecs.Event {
	return kqltest.WindowsEvents(t, sharedData, max)
}

func dnsEvents(t testing.TB, max int) []*ecs.Event { return kqltest.DNSEvents(t, sharedData, max) }

func allFixtureEvents(t testing.TB) []*ecs.Event { return kqltest.Events(t, sharedData) }
