// Package bookinfo is Istio's sample application (samples/bookinfo), one
// service per process, with the sample's call graph, JSON, timeouts, retries
// and header propagation, so that Istio's Bookinfo manifests and tasks run
// unchanged. weft-demo serves it (New gives a service's handler, Args reads
// the command line or the image):
//
//	weft-demo bookinfo productpage v1   GET /productpage (HTML), /api/v1/products[/<id>[/reviews|/ratings]],
//	                                     POST /login, GET /logout, /health, /metrics;
//	                                     calls details and reviews (3 s timeout, reviews tried twice)
//	weft-demo bookinfo details v1|v2    GET /details/<id>, /health
//	weft-demo bookinfo reviews v1|v2|v3 GET /reviews/<id>, /health; v2 (black stars, 10 s timeout)
//	                                     and v3 (red stars, 2.5 s timeout) call ratings
//	weft-demo bookinfo ratings v1|v2    GET|POST /ratings/<id>, /health
//
// Without arguments the service and version come from $WEFT_IMAGE
// (…/examples-bookinfo-<service>-<version>:<tag>). Each service listens on
// 9080 unless $WEFT_CONTAINER_PORTS or $PORT say otherwise.
//
// Upstreams are http://<NAME>_HOSTNAME[.SERVICES_DOMAIN]:<NAME>_SERVICE_PORT
// (defaults details, reviews, ratings and 9080), as in the sample; requests
// go through $HTTP_PROXY when set (host mode), except to loopback addresses.
// The image's own environment is honoured too: reviews' ENABLE_RATINGS and
// STAR_COLOR (the version sets their defaults), ratings' SERVICE_VERSION
// (v-faulty, v-delayed, v-unavailable, v-unhealthy), productpage's
// FLOOD_FACTOR, reviews' HOSTNAME and CLUSTER_NAME.
//
// Not emulated: the databases behind ratings v2 (it serves the v1 ratings,
// which are the ones the sample database holds, and says so in its log) and
// the Google Books call of details v2 (it serves the v1 details).
package bookinfo
