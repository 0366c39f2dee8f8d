package federated_test

import (
	"context"
	"log"
	"net/http"
	"time"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/console/auth"
	"github.com/canhgac/canhgac/console/esstore"
	"github.com/canhgac/canhgac/console/federated"
	"github.com/canhgac/canhgac/pipeline/elastic"
)

// Example wires a console over two regions, each with an Elasticsearch
// cluster of its own and a pipeline whose /metrics reports the consumer
// lag. The addresses are examples. When both regions share one cluster,
// esstore.NewRegion(store, name) selects each region's events instead.
func Example() {
	ctx := context.Background()
	var regions []federated.Region
	for _, r := range []struct{ name, elastic, metrics string }{
		{"dc1", "http://127.0.0.1:9200", "http://127.0.0.1:9464/metrics"},
		{"dc2", "http://127.0.0.1:9201", "http://127.0.0.1:9465/metrics"},
	} {
		store, err := elastic.New(ctx, elastic.Options{URLs: []string{r.elastic}, Region: r.name})
		if err != nil {
			log.Fatal(err)
		}
		defer store.Close()
		adapter := esstore.New(store)
		regions = append(regions, federated.Region{
			Name:        r.name,
			Events:      adapter,
			Alerts:      adapter,
			ConsumerLag: federated.ScrapedConsumerLag(http.DefaultClient, r.metrics, "canhgac.events."+r.name),
		})
	}
	fed, err := federated.New(regions, federated.Options{Timeout: 10 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	users, err := auth.OpenUsers("/var/lib/canhgac/users.json")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := console.NewServer(console.Options{Events: fed, Alerts: fed, Regions: fed, Users: users})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(srv.ListenAndServe(ctx))
}
