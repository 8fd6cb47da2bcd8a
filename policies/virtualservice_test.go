package policies

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ruleCase is one spec (flow-style YAML) and what validating it must give.
type ruleCase struct {
	name string
	spec string
	// field and text describe one expected error: its path, and a part of its
	// message. Both are empty when the spec must be accepted.
	field, text string
	// warning, when set, is part of an expected warning.
	warning string
}

func checkRuleCase(t *testing.T, tc ruleCase, errs field.ErrorList, warnings []string) {
	t.Helper()
	if tc.field == "" {
		for _, e := range errs {
			t.Errorf("unexpected error: %v", e)
		}
	} else {
		found := false
		for _, e := range errs {
			if e.Field == tc.field && strings.Contains(e.Error(), tc.text) {
				found = true
			}
		}
		if !found {
			t.Errorf("want an error at %s containing %q; have %v", tc.field, tc.text, errs)
		}
	}
	if tc.warning != "" && !containsAny(warnings, tc.warning) {
		t.Errorf("want a warning containing %q; have %q", tc.warning, warnings)
	}
}

func runVirtualServiceCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vs := decodeVirtualService(t, tc.spec)
			errs, warnings := ValidateVirtualService(vs, specPath)
			checkRuleCase(t, tc, errs, warnings)
		})
	}
}

const routeToReviews = `route: [{destination: {host: reviews}}]`

func TestVirtualServiceRules(t *testing.T) {
	runVirtualServiceCases(t, []ruleCase{
		// 01: at least one of http, tcp, tls.
		{name: "01 no routes", spec: `{hosts: [reviews]}`,
			field: "spec.http", text: "http, tcp or tls must be provided in virtual service"},
		{name: "01 tcp only is enough", spec: `{hosts: [reviews], tcp: [{route: [{destination: {host: reviews}}]}]}`},

		// 02: "*" on the mesh.
		{name: "02 wildcard host on mesh", spec: `{hosts: ["*"], http: [{` + routeToReviews + `}]}`,
			field: "spec.hosts[0]", text: "wildcard host * is not allowed for virtual services bound to the mesh gateway"},
		{name: "02 wildcard host with mesh listed", spec: `{hosts: ["*"], gateways: [gw, mesh], http: [{` + routeToReviews + `}]}`,
			field: "spec.hosts[0]", text: "wildcard host *"},
		{name: "02 wildcard host on a gateway only", spec: `{hosts: ["*"], gateways: [gw], http: [{` + routeToReviews + `}]}`},

		// 03: host syntax.
		{name: "03 underscore", spec: `{hosts: [reviews_v2.default.svc.cluster.local], http: [{` + routeToReviews + `}]}`,
			field: "spec.hosts[0]", text: `domain name "reviews_v2.default.svc.cluster.local" invalid (label "reviews_v2" invalid)`},
		{name: "03 wildcard not first", spec: `{hosts: ["foo.*.com"], http: [{` + routeToReviews + `}]}`,
			field: "spec.hosts[0]", text: `label "*" invalid`},
		{name: "03 numeric tld", spec: `{hosts: [foo.123], http: [{` + routeToReviews + `}]}`,
			field: "spec.hosts[0]", text: "cannot be all-numeric"},
		{name: "03 label too long", spec: `{hosts: [` + strings.Repeat("a", 64) + `.com], http: [{` + routeToReviews + `}]}`,
			field: "spec.hosts[0]", text: "invalid (label"},
		{name: "03 name too long", spec: `{hosts: [` + strings.Repeat("abcdefghi.", 26) + `com], http: [{` + routeToReviews + `}]}`,
			field: "spec.hosts[0]", text: "too long (max 255)"},
		{name: "03 short name, fqdn, trailing dot, wildcard, ip", spec: `{hosts: [reviews, reviews.default.svc.cluster.local, "api.example.com.", "*.bar.com", 10.0.0.10, "2001:db8::1"], http: [{` + routeToReviews + `}]}`},

		// 04: duplicate or overlapping hosts.
		{name: "04 same host twice", spec: `{hosts: [reviews, reviews], http: [{` + routeToReviews + `}]}`,
			field: "spec.hosts[1]", text: "duplicate hosts in virtual service: reviews & reviews"},
		{name: "04 wildcard covers host", spec: `{hosts: ["*.foo.com", bar.foo.com], http: [{` + routeToReviews + `}]}`,
			field: "spec.hosts[1]", text: "duplicate hosts in virtual service: *.foo.com & bar.foo.com"},
		{name: "04 wildcard covers wildcard", spec: `{hosts: ["*.com", "*.foo.com"], http: [{` + routeToReviews + `}]}`,
			field: "spec.hosts[1]", text: "duplicate hosts"},
		{name: "04 wildcard does not cover its own domain", spec: `{hosts: ["*.foo.com", foo.com], http: [{` + routeToReviews + `}]}`},

		// 05: a rule must send traffic somewhere.
		{name: "05 match without route", spec: `{hosts: [reviews], http: [{match: [{uri: {prefix: /api}}]}]}`,
			field: "spec.http[0].route", text: "HTTP route, redirect or direct_response is required"},
		{name: "05 delegate on a root virtual service", spec: `{hosts: [reviews], http: [{delegate: {name: reviews-v1, namespace: team}}]}`},
		{name: "05 delegate and route", spec: `{hosts: [reviews], http: [{delegate: {name: reviews-v1}, ` + routeToReviews + `}]}`,
			field: "spec.http[0].delegate", text: "HTTP route cannot contain both route and delegate"},
		{name: "05 delegate without name", spec: `{hosts: [reviews], http: [{delegate: {namespace: team}}]}`,
			field: "spec.http[0].delegate.name", text: "delegate name is required"},
		{name: "05 delegate in a delegate", spec: `{http: [{delegate: {name: other}}]}`,
			field: "spec.http[0].delegate", text: "delegate virtual service cannot have delegate"},
		{name: "05 delegate virtual service", spec: `{http: [{` + routeToReviews + `}]}`},
		{name: "05 delegate virtual service with gateways", spec: `{gateways: [gw], http: [{` + routeToReviews + `}]}`,
			field: "spec.gateways", text: "delegate virtual service must have no gateways specified"},
		{name: "05 delegate virtual service with tcp", spec: `{tcp: [{route: [{destination: {host: reviews}}]}]}`,
			field: "spec.tcp", text: "delegate virtual service must have no tcp route specified"},
		{name: "05 delegate virtual service with tls", spec: `{tls: [{match: [{sniHosts: [a.com]}], route: [{destination: {host: reviews}}]}]}`,
			field: "spec.tls", text: "delegate virtual service must have no tls route specified"},

		// 06: conflicting actions.
		{name: "06 route and redirect", spec: `{hosts: [reviews], http: [{redirect: {uri: /v2}, ` + routeToReviews + `}]}`,
			field: "spec.http[0].redirect", text: "HTTP route cannot contain both route and redirect"},
		{name: "06 redirect and fault", spec: `{hosts: [reviews], http: [{redirect: {uri: /v2}, fault: {abort: {httpStatus: 500}}}]}`,
			field: "spec.http[0].redirect", text: "HTTP route cannot contain both fault and redirect"},
		{name: "06 redirect and rewrite", spec: `{hosts: [reviews], http: [{redirect: {uri: /v2}, rewrite: {uri: /v3}}]}`,
			field: "spec.http[0].redirect", text: "HTTP route rule cannot contain both rewrite and redirect"},
		{name: "06 directResponse and route", spec: `{hosts: [reviews], http: [{directResponse: {status: 200}, ` + routeToReviews + `}]}`,
			field: "spec.http[0].directResponse", text: "HTTP route cannot contain both route and direct_response"},
		{name: "06 directResponse and fault", spec: `{hosts: [reviews], http: [{directResponse: {status: 200}, fault: {delay: {fixedDelay: 1s}}}]}`,
			field: "spec.http[0].directResponse", text: "HTTP route cannot contain both fault and direct_response"},
		{name: "06 directResponse and rewrite", spec: `{hosts: [reviews], http: [{directResponse: {status: 200}, rewrite: {uri: /x}}]}`,
			field: "spec.http[0].directResponse", text: "HTTP route rule cannot contain both rewrite and direct_response"},
		{name: "06 directResponse and redirect", spec: `{hosts: [reviews], http: [{directResponse: {status: 200}, redirect: {uri: /x}}]}`,
			field: "spec.http[0].directResponse", text: "cannot contain both direct_response and redirect"},
		{name: "06 directResponse alone", spec: `{hosts: [reviews], http: [{directResponse: {status: 503, body: {string: "unavailable"}}}]}`},

		// 07, 08: weights.
		{name: "07 negative weight", spec: `{hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}, weight: 120}, {destination: {host: reviews, subset: v2}, weight: -20}]}]}`,
			field: "spec.http[0].route[1].weight", text: "weight -20 < 0"},
		{name: "07 negative tcp weight", spec: `{hosts: [reviews], tcp: [{route: [{destination: {host: reviews}, weight: -1}]}]}`,
			field: "spec.tcp[0].route[0].weight", text: "weight -1 < 0"},
		{name: "08 all weights zero", spec: `{hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}, weight: 0}, {destination: {host: reviews, subset: v2}, weight: 0}]}]}`,
			field: "spec.http[0].route", text: "total destination weight = 0"},
		{name: "08 all tcp weights zero", spec: `{hosts: [reviews], tcp: [{route: [{destination: {host: reviews, subset: v1}}, {destination: {host: reviews, subset: v2}}]}]}`,
			field: "spec.tcp[0].route", text: "total destination weight = 0"},
		{name: "08 single destination weight zero", spec: `{hosts: [reviews], http: [{route: [{destination: {host: reviews}, weight: 0}]}]}`},
		{name: "07 weights need not sum to 100", spec: `{hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}, weight: 1000}, {destination: {host: reviews, subset: v2}, weight: 50}]}]}`},

		// 09: destination host.
		{name: "09 destination host *", spec: `{hosts: [reviews], http: [{route: [{destination: {host: "*"}}]}]}`,
			field: "spec.http[0].route[0].destination.host", text: "invalid destination host *"},
		{name: "09 destination host bad label", spec: `{hosts: [reviews], http: [{route: [{destination: {host: "bad_host"}}]}]}`,
			field: "spec.http[0].route[0].destination.host", text: `label "bad_host" invalid`},
		{name: "09 destination host missing", spec: `{hosts: [reviews], http: [{route: [{destination: {subset: v1}}]}]}`,
			field: "spec.http[0].route[0].destination.host", text: "empty domain name not allowed"},
		{name: "09 destination missing", spec: `{hosts: [reviews], http: [{route: [{weight: 100}]}]}`,
			field: "spec.http[0].route[0].destination", text: "destination is required"},
		{name: "09 wildcard destination host", spec: `{hosts: [reviews], http: [{route: [{destination: {host: "*.foo.com"}}]}]}`},

		// 10: subset names.
		{name: "10 subset with dot", spec: `{hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1.0}}]}]}`,
			field: "spec.http[0].route[0].destination.subset", text: "subset name is invalid: v1.0"},
		{name: "10 subset too long", spec: `{hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: ` + strings.Repeat("a", 64) + `}}]}]}`,
			field: "spec.http[0].route[0].destination.subset", text: "subset name is invalid"},
		{name: "10 mirror subset", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, mirror: {host: reviews, subset: "v_1"}}]}`,
			field: "spec.http[0].mirror.subset", text: "subset name is invalid: v_1"},
		{name: "10 upper case subset", spec: `{hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: V1-Canary}}]}]}`},

		// 11: destination ports.
		{name: "11 port too large", spec: `{hosts: [reviews], http: [{route: [{destination: {host: reviews, port: {number: 70000}}}]}]}`,
			field: "spec.http[0].route[0].destination.port.number", text: "port number 70000 must be in the range 1..65535"},
		{name: "11 port zero", spec: `{hosts: [reviews], http: [{route: [{destination: {host: reviews, port: {}}}]}]}`,
			field: "spec.http[0].route[0].destination.port.number", text: "port number 0 must be in the range 1..65535"},
		{name: "11 match port too large", spec: `{hosts: [reviews], http: [{match: [{port: 65536}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].port", text: "port number 65536"},
		{name: "11 port 65535", spec: `{hosts: [reviews], http: [{route: [{destination: {host: reviews, port: {number: 65535}}}]}]}`},

		// 12, 13: timeouts and duration precision.
		{name: "12 zero timeout", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, timeout: 0s}]}`,
			field: "spec.http[0].timeout", text: "duration must be greater than 1ms"},
		{name: "12 sub-ms timeout", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, timeout: 500us}]}`,
			field: "spec.http[0].timeout", text: "duration must be greater than 1ms"},
		{name: "12 negative timeout", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, timeout: -1s}]}`,
			field: "spec.http[0].timeout", text: "duration must be greater than 1ms"},
		{name: "13 timeout not whole ms", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, timeout: 1.0005s}]}`,
			field: "spec.http[0].timeout", text: "only durations to ms precision are supported"},
		{name: "13 fixedDelay not whole ms", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, fault: {delay: {fixedDelay: 1.0001s, percentage: {value: 10}}}}]}`,
			field: "spec.http[0].fault.delay.fixedDelay", text: "only durations to ms precision are supported"},
		{name: "13 backoff not whole ms", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, retries: {attempts: 2, backoff: 25.5ms}}]}`,
			field: "spec.http[0].retries.backoff", text: "only durations to ms precision are supported"},
		{name: "13 go and proto duration forms", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, timeout: 3m, retries: {attempts: 2, perTryTimeout: 180.000s}}]}`},
		{name: "13 one ms", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, timeout: 1ms}]}`},

		// 14, 15, 16, 17: retries.
		{name: "14 negative attempts", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, retries: {attempts: -1}}]}`,
			field: "spec.http[0].retries.attempts", text: "attempts cannot be negative"},
		{name: "15 zero attempts with perTryTimeout", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, retries: {attempts: 0, perTryTimeout: 2s, retryOn: 5xx}}]}`,
			field: "spec.http[0].retries", text: "http retry policy configured when attempts are set to 0 (disabled)"},
		{name: "15 zero attempts with retryRemoteLocalities", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, retries: {retryRemoteLocalities: false}}]}`,
			field: "spec.http[0].retries", text: "attempts are set to 0"},
		{name: "15 zero attempts alone disables retries", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, retries: {attempts: 0}}]}`},
		{name: "16 zero perTryTimeout", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, retries: {attempts: 3, perTryTimeout: 0s}}]}`,
			field: "spec.http[0].retries.perTryTimeout", text: "duration must be greater than 1ms"},
		{name: "17 unknown retryOn", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, retries: {attempts: 3, retryOn: "5xx,bogus-error"}}]}`,
			field: "spec.http[0].retries.retryOn", text: `"bogus-error" is not a valid retryOn policy`},
		{name: "17 empty retryOn item", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, retries: {attempts: 3, retryOn: "5xx,"}}]}`,
			field: "spec.http[0].retries.retryOn", text: `"" is not a valid retryOn policy`},
		{name: "17 unknown status code", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, retries: {attempts: 3, retryOn: "999"}}]}`,
			field: "spec.http[0].retries.retryOn", text: `"999" is not a valid retryOn policy`},
		{name: "17 policies, grpc codes and status codes", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, retries: {attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error,connect-failure,refused-stream,retriable-4xx,reset,unavailable,cancelled,503"}}]}`},

		// 18, 19, 20: fault injection.
		{name: "18 empty fault", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, fault: {}}]}`,
			field: "spec.http[0].fault", text: "HTTP fault injection must have an abort and/or a delay"},
		{name: "19 abort status 700", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, fault: {abort: {httpStatus: 700, percentage: {value: 100}}}}]}`,
			field: "spec.http[0].fault.abort.httpStatus", text: "HTTP status 700 is not in range 200-599"},
		{name: "19 abort status 199", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, fault: {abort: {httpStatus: 199}}}]}`,
			field: "spec.http[0].fault.abort.httpStatus", text: "HTTP status 199"},
		{name: "19 abort status 600 slips through", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, fault: {abort: {httpStatus: 600}}}]}`},
		{name: "19 unknown grpc status", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, fault: {abort: {grpcStatus: NOPE}}}]}`,
			field: "spec.http[0].fault.abort.grpcStatus", text: `gRPC status "NOPE" is not supported`},
		{name: "19 grpc status", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 50}}}}]}`},
		{name: "19 http2Error", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, fault: {abort: {http2Error: REFUSED_STREAM}}}]}`,
			field: "spec.http[0].fault.abort.http2Error", text: "HTTP/2 abort fault injection not supported yet"},
		{name: "19 exponentialDelay", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, fault: {delay: {exponentialDelay: 1s}}}]}`,
			field: "spec.http[0].fault.delay.exponentialDelay", text: "exponentialDelay not supported yet"},
		{name: "20 percentage above 100", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, fault: {abort: {httpStatus: 500, percentage: {value: 101}}}}]}`,
			field: "spec.http[0].fault.abort.percentage.value", text: "percentage 101 is neither 0.0, nor in range [0.0001, 100.0]"},
		{name: "20 negative percentage", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, fault: {delay: {fixedDelay: 1s, percentage: {value: -1}}}}]}`,
			field: "spec.http[0].fault.delay.percentage.value", text: "is neither 0.0"},
		{name: "20 percentage below the smallest fraction", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, fault: {delay: {fixedDelay: 1s, percentage: {value: 0.00001}}}}]}`,
			field: "spec.http[0].fault.delay.percentage.value", text: "is neither 0.0"},
		{name: "20 deprecated delay percent above 100", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, fault: {delay: {fixedDelay: 1s, percent: 101}}}]}`,
			field: "spec.http[0].fault.delay.percent", text: "percentage 101 is not in range 0..100"},
		{name: "20 zero and smallest fraction", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, fault: {delay: {fixedDelay: 1h, percentage: {value: 0.0001}}, abort: {httpStatus: 503, percentage: {value: 0}}}}]}`},

		// 21, 22: mirroring.
		{name: "21 mirrorPercentage above 100", spec: `{hosts: [httpbin], http: [{route: [{destination: {host: httpbin, subset: v1}}], mirror: {host: httpbin, subset: v2}, mirrorPercentage: {value: 150.0}}]}`,
			field: "spec.http[0].mirrorPercentage.value", text: "mirror_percentage must have a max value of 100 (it has 150.000000)"},
		{name: "21 negative mirrorPercentage", spec: `{hosts: [httpbin], http: [{route: [{destination: {host: httpbin}}], mirror: {host: httpbin}, mirrorPercentage: {value: -1}}]}`,
			field: "spec.http[0].mirrorPercentage.value", text: "mirror_percentage must have a min value of 0"},
		{name: "21 mirrors percentage above 100", spec: `{hosts: [httpbin], http: [{route: [{destination: {host: httpbin}}], mirrors: [{destination: {host: httpbin, subset: v2}, percentage: {value: 101}}]}]}`,
			field: "spec.http[0].mirrors[0].percentage.value", text: "mirror percentage must have a max value of 100"},
		{name: "21 mirrors without destination", spec: `{hosts: [httpbin], http: [{route: [{destination: {host: httpbin}}], mirrors: [{percentage: {value: 10}}]}]}`,
			field: "spec.http[0].mirrors[0].destination", text: "destination is required for mirrors"},
		{name: "21 deprecated mirrorPercent above 100", spec: `{hosts: [httpbin], http: [{route: [{destination: {host: httpbin}}], mirror: {host: httpbin}, mirrorPercent: 101}]}`,
			field: "spec.http[0].mirrorPercent", text: "mirror_percent must have a max value of 100 (it has 101)",
			warning: `using deprecated setting "mirrorPercent", use "mirrorPercentage" instead`},
		{name: "21 deprecated mirrorPercent warns", spec: `{hosts: [httpbin], http: [{route: [{destination: {host: httpbin}}], mirror: {host: httpbin}, mirrorPercent: 50}]}`,
			warning: `spec.http[0].mirrorPercent: using deprecated setting "mirrorPercent"`},
		{name: "22 mirror and mirrors", spec: `{hosts: [httpbin], http: [{route: [{destination: {host: httpbin}}], mirror: {host: httpbin}, mirrors: [{destination: {host: httpbin}}]}]}`,
			field: "spec.http[0].mirrors", text: "`mirror` and `mirrors` cannot be used together"},
		{name: "22 mirrors", spec: `{hosts: [httpbin], http: [{route: [{destination: {host: httpbin, subset: v1}}], mirrors: [{destination: {host: httpbin, subset: v2}, percentage: {value: 50}}, {destination: {host: other}}]}]}`},

		// 23: string matches.
		{name: "23 bad header regex", spec: `{hosts: [reviews], http: [{match: [{headers: {end-user: {regex: "(jason|mike"}}}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].headers[end-user].regex", text: `"headers": error parsing regexp: missing closing ): ` + "`(jason|mike`"},
		{name: "23 bad uri regex", spec: `{hosts: [reviews], http: [{match: [{uri: {regex: "*"}}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].uri.regex", text: `"uri": error parsing regexp`},
		{name: "23 regex too long", spec: `{hosts: [reviews], http: [{match: [{uri: {regex: "` + strings.Repeat("a", 1025) + `"}}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].uri.regex", text: `"uri": regex is too large, max length allowed is 1024`},
		{name: "23 empty regex", spec: `{hosts: [reviews], http: [{match: [{authority: {regex: ""}}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].authority.regex", text: `"authority": regex string match should not be empty`},
		{name: "23 empty method prefix", spec: `{hosts: [reviews], http: [{match: [{method: {prefix: ""}}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].method.prefix", text: `"method": prefix string match should not be empty`},
		{name: "23 empty header prefix", spec: `{hosts: [reviews], http: [{match: [{headers: {x-user: {prefix: ""}}}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].headers[x-user].prefix", text: `"headers": prefix string match should not be empty`},
		{name: "23 bad scheme regex", spec: `{hosts: [reviews], http: [{match: [{scheme: {regex: "[a-"}}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].scheme.regex", text: `"scheme": error parsing regexp`},
		{name: "23 bad queryParams regex", spec: `{hosts: [reviews], http: [{match: [{queryParams: {id: {regex: "(("}}}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].queryParams[id].regex", text: `"queryParams": error parsing regexp`},
		{name: "23 bad withoutHeaders regex", spec: `{hosts: [reviews], http: [{match: [{withoutHeaders: {x-user: {regex: "(("}}}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].withoutHeaders[x-user].regex", text: `"withoutHeaders": error parsing regexp`},
		{name: "23 bad header name", spec: `{hosts: [reviews], http: [{match: [{headers: {"x user": {exact: a}}}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].headers[x user]", text: "header name x user is not a valid header"},
		{name: "23 empty uri prefix, withoutHeaders *, valid regexes", spec: `{hosts: [reviews], http: [{match: [{uri: {prefix: ""}, withoutHeaders: {x-debug: {regex: "*"}}, headers: {cookie: {regex: "^(.*?;)?(user=dev-123)(;.*)?"}}, method: {exact: GET}, ignoreUriCase: true}], ` + routeToReviews + `}]}`},

		// 24: source labels.
		{name: "24 bad label key", spec: `{hosts: [reviews], http: [{match: [{sourceLabels: {"bad key": v1}}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].sourceLabels[bad key]", text: `invalid tag key: "bad key"`},
		{name: "24 bad label value", spec: `{hosts: [reviews], http: [{match: [{sourceLabels: {version: "-v1"}}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].sourceLabels[version]", text: `invalid tag value: "-v1"`},
		{name: "24 bad tcp label", spec: `{hosts: [reviews], tcp: [{match: [{sourceLabels: {"a/b/c": x}}], route: [{destination: {host: reviews}}]}]}`,
			field: "spec.tcp[0].match[0].sourceLabels[a/b/c]", text: "invalid tag key"},
		{name: "24 prefixed label key and empty value", spec: `{hosts: [reviews], http: [{match: [{sourceLabels: {app.kubernetes.io/name: reviews, canary: ""}}], ` + routeToReviews + `}]}`},

		// 25: redirects.
		{name: "25 redirect code 200", spec: `{hosts: [reviews], http: [{redirect: {uri: /v2/reviews, redirectCode: 200}}]}`,
			field: "spec.http[0].redirect.redirectCode", text: "200 is not a valid redirect code, must be 3xx"},
		{name: "25 redirect scheme", spec: `{hosts: [reviews], http: [{redirect: {scheme: ftp}}]}`,
			field: "spec.http[0].redirect.scheme", text: `invalid redirect scheme, must be "http" or "https"`},
		{name: "25 redirect without target", spec: `{hosts: [reviews], http: [{redirect: {redirectCode: 301}}]}`,
			field: "spec.http[0].redirect", text: "redirect must specify URI, authority, scheme, or port"},
		{name: "25 redirect uri and prefixRewrite", spec: `{hosts: [reviews], http: [{match: [{uri: {prefix: /foo}}], redirect: {uri: /bar, prefixRewrite: /baz}}]}`,
			field: "spec.http[0].redirect.prefixRewrite", text: "cannot contain both uri and prefixRewrite"},
		{name: "25 prefixRewrite with exact match", spec: `{hosts: [reviews], http: [{match: [{uri: {exact: /foo}}], redirect: {prefixRewrite: /bar}}]}`,
			field: "spec.http[0].redirect.prefixRewrite", text: "needs a prefix uri match"},
		{name: "25 redirect port too large", spec: `{hosts: [reviews], http: [{redirect: {port: 70000}}]}`,
			field: "spec.http[0].redirect.port", text: "redirect port (70000) exceeds the maximum port value 65535"},
		{name: "25 redirects", spec: `{hosts: [reviews], http: [{match: [{uri: {prefix: /foo/}}], redirect: {authority: foo.example.com, prefixRewrite: /}}, {redirect: {uri: /new, authority: b.com, redirectCode: 308, scheme: https, derivePort: FROM_PROTOCOL_DEFAULT}}]}`},

		// 26: tcp routes.
		{name: "26 tcp without route", spec: `{hosts: [reviews], tcp: [{match: [{port: 27017}]}]}`,
			field: "spec.tcp[0].route", text: "TCP route is required"},
		{name: "26 tcp match port", spec: `{hosts: [reviews], tcp: [{match: [{port: 70000}], route: [{destination: {host: reviews}}]}]}`,
			field: "spec.tcp[0].match[0].port", text: "port number 70000"},
		{name: "26 bad cidr", spec: `{hosts: [reviews], tcp: [{match: [{destinationSubnets: [10.0.0.0/33]}], route: [{destination: {host: reviews}}]}]}`,
			field: "spec.tcp[0].match[0].destinationSubnets[0]", text: `"10.0.0.0/33" is not a valid CIDR block`},
		{name: "26 bad ip", spec: `{hosts: [reviews], tcp: [{match: [{destinationSubnets: [foo]}], route: [{destination: {host: reviews}}]}]}`,
			field: "spec.tcp[0].match[0].destinationSubnets[0]", text: "foo is not a valid IP"},
		{name: "26 tcp routes", spec: `{hosts: [tcp-echo], tcp: [{match: [{port: 31400, destinationSubnets: [10.1.0.0/16, 10.2.0.1, "2001:db8::/32"]}], route: [{destination: {host: tcp-echo, subset: v1, port: {number: 9000}}, weight: 80}, {destination: {host: tcp-echo, subset: v2}, weight: 20}]}]}`},

		// 27: tls routes.
		{name: "27 sni not in hosts", spec: `{hosts: [api.example.com], tls: [{match: [{sniHosts: [other.example.org]}], route: [{destination: {host: api.example.com}}]}]}`,
			field: "spec.tls[0].match[0].sniHosts[0]", text: `SNI host "other.example.org" is not a compatible subset of any of the virtual service hosts: [api.example.com]`},
		{name: "27 tls match without sniHosts", spec: `{hosts: [api.example.com], tls: [{match: [{port: 443}], route: [{destination: {host: api.example.com}}]}]}`,
			field: "spec.tls[0].match[0].sniHosts", text: "TLS match must have at least one SNI host"},
		{name: "27 tls without match", spec: `{hosts: [api.example.com], tls: [{route: [{destination: {host: api.example.com}}]}]}`,
			field: "spec.tls[0].match", text: "TLS route must have at least one match condition"},
		{name: "27 tls without route", spec: `{hosts: [api.example.com], tls: [{match: [{sniHosts: [api.example.com]}]}]}`,
			field: "spec.tls[0].route", text: "TLS route is required"},
		{name: "27 sni covered by wildcard host", spec: `{hosts: ["*.example.com"], tls: [{match: [{sniHosts: [api.example.com, "*.b.example.com"]}], route: [{destination: {host: api.example.com}}]}]}`},
		{name: "27 sni ip warns", spec: `{hosts: [api.example.com], tls: [{match: [{sniHosts: [10.0.0.1]}], route: [{destination: {host: api.example.com}}]}]}`,
			warning: `using an IP address ("10.0.0.1") goes against SNI spec`},
	})
}

// TestVirtualServiceOtherRules covers the rejections RULES.md lists without a file.
func TestVirtualServiceOtherRules(t *testing.T) {
	runVirtualServiceCases(t, []ruleCase{
		{name: "exportTo duplicate", spec: `{hosts: [reviews], exportTo: [a, a], http: [{` + routeToReviews + `}]}`,
			field: "spec.exportTo[1]", text: "duplicate entries in exportTo for entry a"},
		{name: "exportTo public and more", spec: `{hosts: [reviews], exportTo: ["*", "."], http: [{` + routeToReviews + `}]}`,
			field: "spec.exportTo", text: "cannot have both public (*) and non-public exportTo values for a resource"},
		{name: "exportTo none", spec: `{hosts: [reviews], exportTo: ["~"], http: [{` + routeToReviews + `}]}`,
			field: "spec.exportTo[0]", text: "exportTo ~ (none) is not allowed"},
		{name: "exportTo bad namespace", spec: `{hosts: [reviews], exportTo: [Bad_NS], http: [{` + routeToReviews + `}]}`,
			field: "spec.exportTo[0]", text: "only .,*, or a valid DNS 1123 label is allowed as exportTo entry"},
		{name: "exportTo", spec: `{hosts: [reviews], exportTo: [".", team-a], http: [{` + routeToReviews + `}]}`},

		{name: "jwt claim route on the mesh", spec: `{hosts: [reviews], http: [{match: [{headers: {"@request.auth.claims.group": {exact: admin}}}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].headers[@request.auth.claims.group]", text: "JWT claim based routing (key: @request.auth.claims.group) is only supported for gateway"},
		{name: "jwt claim route on a gateway", spec: `{hosts: [reviews], gateways: [ingress], http: [{match: [{withoutHeaders: {"@request.auth.claims[nested][key]": {exact: x}}}], ` + routeToReviews + `}]}`},

		{name: "authority set twice", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, rewrite: {authority: a.com}, headers: {request: {set: {host: b.com}}}}]}`,
			field: "spec.http[0].headers.request.set[host]", text: `authority header cannot be set multiple times: have "a.com", attempting to set "b.com"`},
		{name: "pseudo header removed", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, headers: {request: {remove: [":path"]}}}]}`,
			field: "spec.http[0].headers.request.remove[0]", text: `invalid header ":path": header cannot have ":" prefix`},
		{name: "host header on response", spec: `{hosts: [reviews], http: [{route: [{destination: {host: reviews}, headers: {response: {set: {Host: x}}}}]}]}`,
			field: "spec.http[0].route[0].headers.response.set[Host]", text: `invalid header "Host"`},
		{name: "lone percent in header value", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, headers: {request: {add: {x-rate: "50%"}}}}]}`,
			field: "spec.http[0].headers.request.add[x-rate]", text: "single % not allowed"},
		{name: "header operations", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, headers: {request: {set: {":authority": a.com, x-a: "%HOSTNAME%"}, add: {x-b: "100%%"}, remove: [x-c]}, response: {set: {x-d: d}, remove: [x-e]}}}]}`},

		{name: "cors method", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, corsPolicy: {allowMethods: [GET, FOO]}}]}`,
			field: "spec.http[0].corsPolicy.allowMethods[1]", text: `"FOO" is not a supported HTTP method`},
		{name: "cors maxAge", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, corsPolicy: {maxAge: 1.5s}}]}`,
			field: "spec.http[0].corsPolicy.maxAge", text: "max_age duration is accurate only to seconds precision"},
		{name: "cors empty origin", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, corsPolicy: {allowOrigins: [{exact: ""}]}}]}`,
			field: "spec.http[0].corsPolicy.allowOrigins[0]", text: "is not a valid match type for CORS allow origins"},
		{name: "cors header", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, corsPolicy: {exposeHeaders: ["x y"]}}]}`,
			field: "spec.http[0].corsPolicy.exposeHeaders[0]", text: "not a valid header"},
		{name: "cors policy", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, corsPolicy: {allowOrigins: [{exact: "http://foo.example"}, {regex: ".*\\.example"}], allowMethods: [POST, "*"], allowHeaders: [content-type, "*"], maxAge: 300s, allowCredentials: true}}]}`},

		{name: "directResponse status", spec: `{hosts: [reviews], http: [{directResponse: {status: 700}}]}`,
			field: "spec.http[0].directResponse.status", text: "HTTP status 700 is not in range 200-599"},
		{name: "directResponse body over 1MB", spec: `{hosts: [reviews], http: [{directResponse: {status: 200, body: {string: "` + strings.Repeat("x", 1<<20+1) + `"}}}]}`,
			field: "spec.http[0].directResponse.body", text: "must be less than 1MB"},
		{name: "directResponse body over 100KB warns", spec: `{hosts: [reviews], http: [{directResponse: {status: 200, body: {string: "` + strings.Repeat("x", 100<<10+1) + `"}}}]}`,
			warning: "spec.http[0].directResponse.body: large direct_responses may impact control plane performance"},

		{name: "rewrite uri and uriRegexRewrite", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, rewrite: {uri: /a, uriRegexRewrite: {match: "^/b", rewrite: /c}}}]}`,
			field: "spec.http[0].rewrite.uriRegexRewrite", text: "rewrite may only contain one of URI or UriRegexRewrite"},
		{name: "empty rewrite", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, rewrite: {}}]}`,
			field: "spec.http[0].rewrite", text: "rewrite must specify at least one of URI, UriRegexRewrite, or authority"},
		{name: "uriRegexRewrite without rewrite", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, rewrite: {uriRegexRewrite: {match: "^/b"}}}]}`,
			field: "spec.http[0].rewrite.uriRegexRewrite", text: "UriRegexRewrite requires both Rewrite and Match fields to be specified"},
		{name: "uriRegexRewrite bad regex", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, rewrite: {uriRegexRewrite: {match: "((", rewrite: /x}}}]}`,
			field: "spec.http[0].rewrite.uriRegexRewrite.match", text: `"HTTPRewrite.UriRegexRewrite.Match": error parsing regexp`},
		{name: "rewrites", spec: `{hosts: [reviews], http: [{` + routeToReviews + `, rewrite: {uriRegexRewrite: {match: "^/service/([^/]+)(/.*)$", rewrite: "\\2/instance/\\1"}, authority: b.com}}]}`},

		{name: "bad gateway name", spec: `{hosts: [reviews], gateways: [ns/Bad_name], http: [{` + routeToReviews + `}]}`,
			field: "spec.gateways[0]", text: `invalid value for gateway name: "Bad_name"`},
		{name: "empty gateway namespace", spec: `{hosts: [reviews], gateways: [/gw], http: [{` + routeToReviews + `}]}`,
			field: "spec.gateways[0]", text: "config namespace and gateway name cannot be empty"},
		{name: "legacy gateway name warns", spec: `{hosts: [reviews], gateways: [my-gateway.istio-system], http: [{` + routeToReviews + `}]}`,
			warning: `using legacy gatewayName format "my-gateway.istio-system"; prefer the <namespace>/<name> format: "istio-system/my-gateway"`},
		{name: "bad match gateway", spec: `{hosts: [reviews], gateways: [gw], http: [{match: [{gateways: ["bad gw"]}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].gateways[0]", text: "invalid"},
		{name: "bad sourceNamespace", spec: `{hosts: [reviews], http: [{match: [{sourceNamespace: "a.b"}], ` + routeToReviews + `}]}`,
			field: "spec.http[0].match[0].sourceNamespace", text: "sourceNamespace match a.b is invalid"},
		{name: "bad tcp sourceSubnet", spec: `{hosts: [reviews], tcp: [{match: [{sourceSubnet: 1.2.3.4/99}], route: [{destination: {host: reviews}}]}]}`,
			field: "spec.tcp[0].match[0].sourceSubnet", text: "is not a valid CIDR block"},
	})
}

// TestVirtualServiceUnreachableRules checks the warnings about rules that
// can never match.
func TestVirtualServiceUnreachableRules(t *testing.T) {
	runVirtualServiceCases(t, []ruleCase{
		{name: "two catch-all rules", spec: `{hosts: [details], http: [{fault: {abort: {httpStatus: 555, percentage: {value: 100}}}, route: [{destination: {host: details}}]}, {route: [{destination: {host: details}}]}]}`,
			warning: "spec.http[1]: virtualService rule #1 not used (only the last rule can have no matches)"},
		{name: "named catch-all rule", spec: `{hosts: [details], http: [{route: [{destination: {host: details}}]}, {name: fallback, route: [{destination: {host: details}}]}]}`,
			warning: `virtualService rule "fallback" not used (only the last rule can have no matches)`},
		{name: "duplicate match", spec: `{hosts: [details], http: [{match: [{uri: {prefix: /a}}], ` + routeToReviews + `}, {match: [{name: again, uri: {prefix: /a}}], ` + routeToReviews + `}]}`,
			warning: `spec.http[1].match[0]: virtualService rule #1 match "again" is not used (duplicate/overlapping match in rule #0)`},
		{name: "all matches used before", spec: `{hosts: [details], http: [{match: [{uri: {prefix: /a}}], ` + routeToReviews + `}, {match: [{uri: {prefix: /a}}], ` + routeToReviews + `}]}`,
			warning: "spec.http[1]: virtualService rule #1 not used (all matches used by prior rules)"},
		{name: "tcp catch-all rules", spec: `{hosts: [db], tcp: [{route: [{destination: {host: db}}]}, {route: [{destination: {host: db}}]}]}`,
			warning: "spec.tcp[1]: virtualService rule #1 not used (only the last rule can have no matches)"},
		{name: "tcp duplicate match", spec: `{hosts: [db], tcp: [{match: [{port: 1}], route: [{destination: {host: db}}]}, {match: [{port: 1}], route: [{destination: {host: db}}]}]}`,
			warning: "spec.tcp[1].match[0]: virtualService rule #1 match #0 is not used (duplicate/overlapping match in rule #0)"},
	})
}

// TestVirtualServiceReportsEveryProblem checks that validation goes on after
// the first problem.
func TestVirtualServiceReportsEveryProblem(t *testing.T) {
	vs := decodeVirtualService(t, `{hosts: [bad_host], http: [{route: [{destination: {host: "*"}, weight: -1}, {destination: {host: reviews, port: {number: 0}}}], timeout: 0s, retries: {attempts: -1}}]}`)
	errs, _ := ValidateVirtualService(vs, specPath)
	want := []string{
		"spec.hosts[0]",
		"spec.http[0].route[0].destination.host",
		"spec.http[0].route[0].weight",
		"spec.http[0].route[1].destination.port.number",
		"spec.http[0].timeout",
		"spec.http[0].retries.attempts",
	}
	have := map[string]bool{}
	for _, e := range errs {
		have[e.Field] = true
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("no error at %s; have %v", w, errs)
		}
	}
}

func TestValidateNilSpecs(t *testing.T) {
	if errs, _ := ValidateVirtualService(nil, specPath); len(errs) != 1 || errs[0].Field != "spec" {
		t.Errorf("nil VirtualService: %v", errs)
	}
	if errs, _ := ValidateDestinationRule(nil, specPath); len(errs) != 1 || errs[0].Field != "spec" {
		t.Errorf("nil DestinationRule: %v", errs)
	}
	if w := UnsupportedVirtualService(nil, specPath); len(w) != 0 {
		t.Errorf("nil VirtualService: %v", w)
	}
	if w := UnsupportedDestinationRule(nil, specPath); len(w) != 0 {
		t.Errorf("nil DestinationRule: %v", w)
	}
}
