// Package federated serves the console from the stores of several regions
// at once. Store implements console.EventSearcher, console.AlertStore and
// console.RegionStatusReader over N named regional backends, for example
// one console/esstore per regional Elasticsearch cluster.
//
// Every call fans out to the regions concurrently, each under its own
// timeout. A region that fails or times out is left out of the result and
// named in a console.RegionWarning, so one region's outage degrades the
// console to the other region instead of failing it. Only when every
// region fails does a call return an error.
//
// Search merges pages by @timestamp. For the page (offset, limit) it
// requests the first offset+limit events of each region, merges the lists
// and cuts the page from the merged list. So paging through the federation
// returns the events that one store holding them all would return, in the
// same time order; only events of the same time may come in another order.
// Every event carries its region in observer.geo.name, and an event
// without it gets the name of the region it came from.
package federated
