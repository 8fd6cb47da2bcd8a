package network

import (
	"context"
	"errors"
	"testing"
)

func TestHostAllocates(t *testing.T) {
	ctx := context.Background()
	h, err := NewHost("127.20.0.0/30")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := h.Setup(ctx, Pod{UID: "a"})
	b, _ := h.Setup(ctx, Pod{UID: "b"})
	if a.IP != "127.20.0.1" || b.IP != "127.20.0.2" {
		t.Fatalf("got %s, %s", a.IP, b.IP)
	}
	if again, _ := h.Setup(ctx, Pod{UID: "a"}); again.IP != a.IP {
		t.Fatalf("setup twice gave %s, then %s", a.IP, again.IP)
	}
	if _, err := h.Setup(ctx, Pod{UID: "c"}); !errors.Is(err, ErrExhausted) {
		t.Fatalf("err = %v, want ErrExhausted", err)
	}
	_ = h.Teardown(ctx, Pod{UID: "a"})
	if c, err := h.Setup(ctx, Pod{UID: "c"}); err != nil || c.IP != "127.20.0.1" {
		t.Fatalf("after teardown: %v, %v", c, err)
	}
}

func TestHostKeepsAnAdoptedAddress(t *testing.T) {
	h, _ := NewHost("127.20.0.0/16")
	r, err := h.Setup(context.Background(), Pod{UID: "a", IP: "127.20.3.4"})
	if err != nil || r.IP != "127.20.3.4" {
		t.Fatalf("got %v, %v", r, err)
	}
}

func TestHostRejectsNonLoopback(t *testing.T) {
	if _, err := NewHost("10.0.0.0/16"); err == nil {
		t.Fatal("want an error for a non-loopback CIDR")
	}
}

func TestHostAdoptReservesOnlyItsOwnAddresses(t *testing.T) {
	ctx := context.Background()
	h, _ := NewHost("127.20.0.0/16")
	if err := h.Adopt(ctx, []Pod{{UID: "a", IP: "127.20.0.1"}, {UID: "b", IP: "10.0.0.1"}, {UID: "c"}}); err != nil {
		t.Fatal(err)
	}
	// The new pod does not get a's address; b and c, whose addresses are
	// not the pool's, hold none.
	if r, _ := h.Setup(ctx, Pod{UID: "new"}); r.IP != "127.20.0.2" {
		t.Fatalf("new pod got %s", r.IP)
	}
	if r, _ := h.Setup(ctx, Pod{UID: "a"}); r.IP != "127.20.0.1" || r.Env["POD_IP"] != r.IP {
		t.Fatalf("adopted pod got %+v", r)
	}
}
