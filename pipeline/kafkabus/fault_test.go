package kafkabus

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/canhgac/canhgac/internal/itest"
)

// waitSpoolEmpty waits until the producer's spool has been drained.
func waitSpoolEmpty(t *testing.T, p *Producer, timeout time.Duration) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if _, n := p.SpoolStats(); n == 0 {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			_, n := p.SpoolStats()
			t.Fatalf("%d messages still in the spool after %v", n, timeout)
		}
	}
}

// TestBrokerOutageSpoolsAndDrains stops the broker gracefully, then kills
// it with SIGKILL, while events are being published. Publish keeps
// returning nil and the spool grows. After each restart the drainer sends
// the spool, and the consumer receives every event once and in order.
func TestBrokerOutageSpoolsAndDrains(t *testing.T) {
	k := itest.NewKafka(t)
	opts := Options{Brokers: k.Brokers(), DialTimeout: 2 * time.Second, RequestTimeout: 5 * time.Second}
	region := "outage"
	ensureRegion(t, opts, region, testTopicOptions())

	reg := prometheus.NewRegistry()
	p, err := NewProducer(opts, ProducerOptions{Retries: 2, RetryBackoff: 100 * time.Millisecond,
		ReconnectInterval: 500 * time.Millisecond, Spool: SpoolOptions{Dir: t.TempDir()}}, reg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	events := realEvents(t)
	msgs := eventMessages(t, region, events)
	parts := [][2]int{{0, 1000}, {1000, 2500}, {2500, 3000}, {3000, 4000}, {4000, len(msgs)}}

	publishAll(t, p, msgs[parts[0][0]:parts[0][1]], 250) // broker up

	k.Stop()
	publishAll(t, p, msgs[parts[1][0]:parts[1][1]], 250) // broker stopped
	bytesDown, recordsDown := p.SpoolStats()
	if recordsDown == 0 || bytesDown == 0 {
		t.Fatalf("spool holds %d records, %d bytes while the broker is down; want the published ones", recordsDown, bytesDown)
	}
	if got := testutil.ToFloat64(p.metrics.spoolRecords); got != float64(recordsDown) {
		t.Errorf("spool records metric = %v, want %d", got, recordsDown)
	}
	k.Start()
	publishAll(t, p, msgs[parts[2][0]:parts[2][1]], 250) // broker back, spool draining
	waitSpoolEmpty(t, p, 2*time.Minute)

	k.Kill()
	publishAll(t, p, msgs[parts[3][0]:parts[3][1]], 250) // broker killed
	if _, n := p.SpoolStats(); n == 0 {
		t.Fatal("spool empty while the broker is killed")
	}
	k.Start()
	publishAll(t, p, msgs[parts[4][0]:parts[4][1]], 250)
	waitSpoolEmpty(t, p, 2*time.Minute)

	spooled := testutil.ToFloat64(p.metrics.spooled)
	drained := testutil.ToFloat64(p.metrics.drained)
	published := testutil.ToFloat64(p.metrics.published)
	t.Logf("published directly %v, spooled %v, drained %v, produce errors %v", published, spooled, drained,
		testutil.ToFloat64(p.metrics.produceErrors))
	if spooled == 0 || drained != spooled {
		t.Errorf("spooled %v, drained %v; want equal and non-zero", spooled, drained)
	}
	if published+drained != float64(len(msgs)) {
		t.Errorf("published %v + drained %v != %d messages", published, drained, len(msgs))
	}

	h := newRecordingHandler(true)
	startConsumer(t, opts, ConsumerOptions{Group: "outage", Topics: []string{EventsTopic(region)}}, h)
	h.waitEvents(t, len(events), 2*time.Minute)
	checkExactlyOnceInOrder(t, events, h.snapshot())
}

// closedPort returns a 127.0.0.1 address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

const childSpoolEnv = "CANHGAC_KAFKABUS_CHILD_SPOOL"

// TestProducerChildProcess is the child of TestProducerKilledWhileSpooling:
// it publishes to an unreachable broker (so everything is spooled) and
// prints the size of each batch that Publish acknowledged.
func TestProducerChildProcess(t *testing.T) {
	dir := os.Getenv(childSpoolEnv)
	if dir == "" {
		t.Skip("run only as the child of TestProducerKilledWhileSpooling")
	}
	p, err := NewProducer(Options{Brokers: strings.Split(os.Getenv("CANHGAC_KAFKABUS_CHILD_BROKERS"), ",")},
		ProducerOptions{ReconnectInterval: time.Hour, Spool: SpoolOptions{Dir: dir, SegmentBytes: 256 << 10}}, nil, nil)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	msgs := eventMessages(t, "kill", realEvents(t))
	out := bufio.NewWriter(os.Stdout)
	for i := 0; i < len(msgs); i += 50 {
		batch := msgs[i:min(i+50, len(msgs))]
		if err := p.Publish(context.Background(), batch); err != nil {
			fmt.Fprintln(out, "ERROR", err)
			out.Flush()
			os.Exit(2)
		}
		fmt.Fprintln(out, "ACK", len(batch))
		out.Flush()
	}
	fmt.Fprintln(out, "ERROR the parent did not kill the child before the messages ran out")
	out.Flush()
	os.Exit(2)
}

// TestProducerKilledWhileSpooling kills a producer process with SIGKILL
// while it writes to the spool, three times on the same directory, then
// reopens the spool: every message that Publish acknowledged is there, in
// order.
func TestProducerKilledWhileSpooling(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	msgs := eventMessages(t, "kill", realEvents(t))
	dir := t.TempDir()

	var acked []int // messages acknowledged in each run
	for run := 0; run < 3; run++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestProducerChildProcess$")
		cmd.Env = append(os.Environ(), childSpoolEnv+"="+dir, "CANHGAC_KAFKABUS_CHILD_BROKERS="+closedPort(t))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		n, batches := 0, 0
		killAfter := 20 + run*17
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "ERROR") {
				cmd.Process.Kill()
				t.Fatalf("child: %s", line)
			}
			size, ok := strings.CutPrefix(line, "ACK ")
			if !ok {
				continue
			}
			k, _ := strconv.Atoi(size)
			n += k
			if batches++; batches == killAfter {
				cmd.Process.Kill() // SIGKILL, during the next Publish
				break
			}
		}
		cmd.Wait()
		acked = append(acked, n)
		t.Logf("run %d: killed the producer after %d acknowledged messages", run, n)
	}

	s, err := openSpool(SpoolOptions{Dir: dir, SegmentBytes: 256 << 10}, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, s)
	s.Close()

	// Every run published msgs from the start, so the spool holds one run
	// after the other; a run starts where msgs[0] appears.
	var runs [][]spoolRecord
	for _, r := range got {
		if reflect.DeepEqual(r.msg, msgs[0]) {
			runs = append(runs, nil)
		}
		if len(runs) == 0 {
			t.Fatal("spool does not start with the first published message")
		}
		runs[len(runs)-1] = append(runs[len(runs)-1], r)
	}
	if len(runs) != len(acked) {
		t.Fatalf("spool holds %d runs, want %d", len(runs), len(acked))
	}
	for i, run := range runs {
		if len(run) < acked[i] {
			t.Errorf("run %d: %d messages in the spool, %d were acknowledged", i, len(run), acked[i])
		}
		for j, r := range run {
			if !reflect.DeepEqual(r.msg, msgs[j]) {
				t.Fatalf("run %d: record %d differs from the published message", i, j)
			}
		}
		t.Logf("run %d: %d acknowledged, %d in the spool", i, acked[i], len(run))
	}

	// With a broker available, the recovered spool drains into Kafka.
	t.Run("drain", func(t *testing.T) {
		opts := Options{Brokers: itest.KafkaBrokers(t)}
		ensureRegion(t, opts, "kill", testTopicOptions())
		p, err := NewProducer(opts, ProducerOptions{ReconnectInterval: 200 * time.Millisecond,
			Spool: SpoolOptions{Dir: dir, SegmentBytes: 256 << 10}}, nil, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		waitSpoolEmpty(t, p, 2*time.Minute)
		if drained := testutil.ToFloat64(p.metrics.drained); drained != float64(len(got)) {
			t.Errorf("drained %v messages, want the %d in the spool", drained, len(got))
		}
	})
}

const childConsumerEnv = "CANHGAC_KAFKABUS_CHILD_CONSUMER"

// TestConsumerChildProcess is the child of TestConsumerKilledBeforeCommit:
// it consumes without ever committing and prints the events it received.
func TestConsumerChildProcess(t *testing.T) {
	spec := os.Getenv(childConsumerEnv) // brokers|group|topic
	if spec == "" {
		t.Skip("run only as the child of TestConsumerKilledBeforeCommit")
	}
	parts := strings.Split(spec, "|")
	h := newRecordingHandler(false)
	c, err := NewConsumer(Options{Brokers: []string{parts[0]}}, ConsumerOptions{Group: parts[1], Topics: []string{parts[2]},
		SessionTimeout: 6 * time.Second, BatchWait: 100 * time.Millisecond}, h, nil, nil)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	go c.Run(context.Background())
	for {
		<-h.notify
		fmt.Println("GOT", h.eventCount())
	}
}

// TestConsumerKilledBeforeCommit kills a consumer process with SIGKILL
// after it received a batch it never committed: the next member of the
// group receives the batch again.
func TestConsumerKilledBeforeCommit(t *testing.T) {
	opts := Options{Brokers: itest.KafkaBrokers(t)}
	region := uniqueRegion("ck")
	ensureRegion(t, opts, region, TopicOptions{Partitions: 1, ReplicationFactor: 1})
	topic, group := EventsTopic(region), "ck-"+region
	p, err := NewProducer(opts, ProducerOptions{Spool: SpoolOptions{Dir: t.TempDir()}}, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	events := loadEvents(t, sampleLogs[0])[:50]
	publishAll(t, p, eventMessages(t, region, events), 50)

	cmd := exec.Command(os.Args[0], "-test.run=^TestConsumerChildProcess$")
	cmd.Env = append(os.Environ(), childConsumerEnv+"="+opts.Brokers[0]+"|"+group+"|"+topic)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	got := 0
	for got < len(events) && sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "GOT "); ok {
			got, _ = strconv.Atoi(n)
		}
		if strings.HasPrefix(sc.Text(), "ERROR") {
			t.Fatalf("child: %s", sc.Text())
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if got < len(events) {
		t.Fatalf("child consumer received %d events before it ended, want %d", got, len(events))
	}
	if committed := committedOffset(t, opts, group, topic, 0); committed != -1 {
		t.Fatalf("offset %d committed by a consumer that never called Commit", committed)
	}

	// The killed member's session expires; the next member gets the batch again.
	h := newRecordingHandler(true)
	stop := startConsumer(t, opts, ConsumerOptions{Group: group, Topics: []string{topic}, SessionTimeout: 6 * time.Second}, h)
	h.waitEvents(t, len(events), time.Minute)
	stop()
	checkExactlyOnceInOrder(t, events, h.snapshot())
	if committed := committedOffset(t, opts, group, topic, 0); committed != int64(len(events)) {
		t.Errorf("committed offset = %d, want %d", committed, len(events))
	}
}
