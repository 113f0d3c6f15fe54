package main

// Event history collectors (vpx and esx mode), fixed in two places where 0.24.2
// loses the events the doctor reads:
//   - a new collector's page is refilled newest-first with every matching event
//     (stock fills it with the newest event and then the oldest ones);
//   - EventEx/ExtendedEvent eventTypeId filters ("esx.problem.…") match, both in
//     that first fill and for events injected later (events.go, control "event").
// Events the simulator posts itself after the collector exists still go through
// the stock matching (by Go type name), which is right for them.

import (
	"container/ring"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"unsafe"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

var collectorRef = regexp.MustCompile(`<returnval type="EventHistoryCollector">([^<]+)</returnval>`)

// createCollector lets the simulator create the collector, then refills its page.
func createCollector(next http.Handler, w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	if rec.Code == http.StatusOK {
		if m := collectorRef.FindSubmatch(rec.Body.Bytes()); m != nil {
			refillCollector(types.ManagedObjectReference{Type: "EventHistoryCollector", Value: unescapeXML(string(m[1]))})
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func unescapeXML(s string) string {
	r := regexp.MustCompile(`&(amp|lt|gt|quot|apos|#34|#39);`)
	return r.ReplaceAllStringFunc(s, func(e string) string {
		return map[string]string{"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": `"`, "&#34;": `"`, "&apos;": "'", "&#39;": "'"}[e]
	})
}

// collectors reads the EventManager's collector map (unexported in 0.24.2). Caller holds the EventManager lock.
func collectors() map[types.ManagedObjectReference]*simulator.EventHistoryCollector {
	m := simulator.Map.EventManager()
	f := reflect.ValueOf(m).Elem().FieldByName("collectors")
	want := reflect.TypeOf(map[types.ManagedObjectReference]*simulator.EventHistoryCollector{})
	if !f.IsValid() || f.Type() != want {
		panic("collectors: unexpected simulator.EventManager layout")
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(map[types.ManagedObjectReference]*simulator.EventHistoryCollector)
}

func collectorPage(c *simulator.EventHistoryCollector) **ring.Ring {
	f := reflect.ValueOf(c).Elem().FieldByName("page")
	if !f.IsValid() || f.Type() != reflect.TypeOf((*ring.Ring)(nil)) {
		panic("collectorPage: unexpected simulator.EventHistoryCollector layout")
	}
	return (**ring.Ring)(unsafe.Pointer(f.UnsafeAddr()))
}

// refillCollector takes the EventManager lock, then the collector's: the order PostEvent uses.
func refillCollector(ref types.ManagedObjectReference) {
	em := simulator.Map.EventManager()
	simulator.Map.WithLock(em, func() {
		c := collectors()[ref]
		if c == nil {
			return
		}
		simulator.Map.WithLock(c, func() { refillLocked(c) })
	})
}

func refillLocked(c *simulator.EventHistoryCollector) {
	{
		filter, _ := c.Filter.(types.EventFilterSpec)
		page := *collectorPage(c)
		n := page.Len()
		filter.MaxCount = int32(n)
		events := filterEvents(allEventsLocked(), filter)
		r := page
		for i := 0; i < n; i++ {
			r.Value = nil
			if i < len(events) {
				r.Value = events[i]
			}
			r = r.Next()
		}
		if f := reflect.ValueOf(c).Elem().FieldByName("pos"); f.IsValid() && f.Kind() == reflect.Int {
			*(*int)(unsafe.Pointer(f.UnsafeAddr())) = 0
		}
	}
}

// pushToCollectors adds an injected event to the collectors whose filter names its
// eventTypeId but which the stock matching passed over. Caller holds the EventManager lock.
func pushToCollectors(ev types.BaseEvent) {
	cats := eventCategories()
	for _, c := range collectors() {
		simulator.Map.WithLock(c, func() {
			filter, _ := c.Filter.(types.EventFilterSpec)
			page := collectorPage(c)
			if (*page).Value == ev || !eventMatches(ev, &filter, cats) {
				return
			}
			*page = (*page).Prev()
			(*page).Value = ev
			simulator.Map.Update(c, []types.PropertyChange{{Name: "latestPage", Val: c.GetLatestPage()}})
		})
	}
}
