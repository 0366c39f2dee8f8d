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
// Search pages are merged by @timestamp: for page (offset, limit) each
// region is asked for its first offset+limit events, the lists are merged
// and the page is cut from the merged list, so paging through the
// federation returns the same events as one store that holds them all.
// Every event carries its region in observer.geo.name; an event without it
// gets the name of the region it came from.
package federated
