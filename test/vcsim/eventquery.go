package main

// QueryEvents as vCenter answers it (vpx mode). The stock 0.24.2 implementation
// has two faults that hide the very events the doctor looks for:
//   - EventFilterSpec.eventTypeId is compared with Go type names only, so
//     "esx.problem.vmfs.resource.corruptondisk" never matches an EventEx;
//   - the result is a collector page that holds the newest event followed by
//     the oldest ones, 10 by default, so events in between are lost.
// Here QueryEvents reads the EventManager's whole history (up to 1000 events,
// newest first, as stock) and filters by: entity (self/children/all), time,
// userName list, eventTypeId (type name, base type name, or EventEx/ExtendedEvent
// eventTypeId), category (EventEx severity or the event's EventInfo category),
// eventChainId and maxCount (default 1000).
//
// esx mode keeps the stock NotImplemented. Collectors: see collectorfix.go.

import (
	"bytes"
	"container/ring"
	"io"
	"io/ioutil"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"unsafe"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

// wrapSDK wraps the simulator's HTTP handler: QueryEvents is answered here, and
// CreateCollectorForEvents gets its page refilled (collectorfix.go).
func wrapSDK(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := ioutil.ReadAll(io.LimitReader(r.Body, 64<<20))
		_ = r.Body.Close()
		r.Body = ioutil.NopCloser(bytes.NewReader(body))
		if err == nil && bytes.Contains(body, []byte("CreateCollectorForEvents")) {
			createCollector(next, w, r)
			return
		}
		if err != nil || simulator.Map.IsESX() || !bytes.Contains(body, []byte("QueryEvents")) {
			next.ServeHTTP(w, r)
			return
		}
		method, err := simulator.UnmarshalBody(types.TypeFunc(), body)
		if err != nil || method.Name != "QueryEvents" || !authenticated(next, r) {
			next.ServeHTTP(w, r) // the simulator answers with its own fault
			return
		}
		req, ok := method.Body.(*types.QueryEvents)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		writeSOAP(w, struct {
			Res *types.QueryEventsResponse `xml:"urn:vim25 QueryEventsResponse"`
		}{&types.QueryEventsResponse{Returnval: queryEvents(req.Filter)}})
	})
}

// authenticated asks the simulator itself whether the request's session cookie is valid.
func authenticated(next http.Handler, r *http.Request) bool {
	probe := httptest.NewRequest(http.MethodPost, r.URL.Path, strings.NewReader(
		`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">`+
			`<soapenv:Body><CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime>`+
			`</soapenv:Body></soapenv:Envelope>`))
	probe.Header.Set("Cookie", r.Header.Get("Cookie"))
	probe.Header.Set("User-Agent", r.UserAgent())
	probe.RemoteAddr = r.RemoteAddr
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, probe)
	return rec.Code == http.StatusOK
}

type soapEnvelope struct {
	XMLName xml.Name    `xml:"soapenv:Envelope"`
	Enc     string      `xml:"xmlns:soapenc,attr"`
	Env     string      `xml:"xmlns:soapenv,attr"`
	XSD     string      `xml:"xmlns:xsd,attr"`
	XSI     string      `xml:"xmlns:xsi,attr"`
	Body    interface{} `xml:"soapenv:Body"`
}

func writeSOAP(w http.ResponseWriter, body interface{}) {
	var out bytes.Buffer
	out.WriteString(xml.Header)
	e := xml.NewEncoder(&out)
	err := e.Encode(&soapEnvelope{
		Enc:  "http://schemas.xmlsoap.org/soap/encoding/",
		Env:  "http://schemas.xmlsoap.org/soap/envelope/",
		XSD:  "http://www.w3.org/2001/XMLSchema",
		XSI:  "http://www.w3.org/2001/XMLSchema-instance",
		Body: body,
	})
	if err == nil {
		err = e.Flush()
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(out.Bytes())
}

// allEvents returns the EventManager's history, newest first.
func allEvents() []types.BaseEvent {
	var out []types.BaseEvent
	simulator.Map.WithLock(simulator.Map.EventManager(), func() { out = allEventsLocked() })
	return out
}

// allEventsLocked is allEvents for a caller holding the EventManager lock.
func allEventsLocked() []types.BaseEvent {
	m := simulator.Map.EventManager()
	f := reflect.ValueOf(m).Elem().FieldByName("page")
	if !f.IsValid() || f.Type() != reflect.TypeOf((*ring.Ring)(nil)) {
		panic("allEvents: unexpected simulator.EventManager layout")
	}
	var out []types.BaseEvent
	page := *(**ring.Ring)(unsafe.Pointer(f.UnsafeAddr()))
	for e, i := page, 0; e != nil && i < page.Len(); e, i = e.Next(), i+1 {
		ev, ok := e.Value.(types.BaseEvent)
		if !ok {
			break
		}
		out = append(out, ev)
	}
	return out
}

func queryEvents(f types.EventFilterSpec) []types.BaseEvent {
	return filterEvents(allEvents(), f)
}

func filterEvents(all []types.BaseEvent, f types.EventFilterSpec) []types.BaseEvent {
	max := int(f.MaxCount)
	if max <= 0 || max > 1000 {
		max = 1000
	}
	categories := eventCategories()
	var out []types.BaseEvent
	for _, ev := range all {
		if len(out) == max {
			break
		}
		if eventMatches(ev, &f, categories) {
			out = append(out, ev)
		}
	}
	return out
}

func eventCategories() map[string]string {
	m := simulator.Map.EventManager()
	out := map[string]string{}
	for _, info := range m.Description.EventInfo {
		out[info.Key] = info.Category
	}
	return out
}

func eventMatches(ev types.BaseEvent, f *types.EventFilterSpec, categories map[string]string) bool {
	e := ev.GetEvent()
	if f.Time != nil {
		if f.Time.BeginTime != nil && e.CreatedTime.Before(*f.Time.BeginTime) {
			return false
		}
		if f.Time.EndTime != nil && e.CreatedTime.After(*f.Time.EndTime) {
			return false
		}
	}
	if f.UserName != nil && len(f.UserName.UserList) > 0 && !contains(f.UserName.UserList, e.UserName) {
		return false
	}
	if f.EventChainId != 0 && e.ChainId != f.EventChainId {
		return false
	}
	if len(f.EventTypeId) > 0 && !anyContains(f.EventTypeId, eventTypeIDs(ev)) {
		return false
	}
	if len(f.Category) > 0 {
		cat := categories[reflect.TypeOf(ev).Elem().Name()]
		if x, ok := ev.(*types.EventEx); ok {
			cat = x.Severity
		}
		if !contains(f.Category, cat) {
			return false
		}
	}
	if f.Entity != nil {
		return entityMatches(ev, f.Entity)
	}
	return true
}

// eventTypeIDs lists every id an eventTypeId filter may name for this event.
func eventTypeIDs(ev types.BaseEvent) []string {
	var ids []string
	for t := reflect.TypeOf(ev).Elem(); t.Kind() == reflect.Struct; {
		ids = append(ids, t.Name())
		if t.NumField() == 0 || !t.Field(0).Anonymous {
			break
		}
		t = t.Field(0).Type
	}
	switch x := ev.(type) {
	case *types.EventEx:
		ids = append(ids, x.EventTypeId)
	case *types.ExtendedEvent:
		ids = append(ids, x.EventTypeId)
	}
	return ids
}

func eventRefs(ev types.BaseEvent) []types.ManagedObjectReference {
	e := ev.GetEvent()
	var refs []types.ManagedObjectReference
	if e.Vm != nil {
		refs = append(refs, e.Vm.Vm)
	}
	if e.Host != nil {
		refs = append(refs, e.Host.Host)
	}
	if e.ComputeResource != nil {
		refs = append(refs, e.ComputeResource.ComputeResource)
	}
	if e.Ds != nil {
		refs = append(refs, e.Ds.Datastore)
	}
	if e.Net != nil {
		refs = append(refs, e.Net.Network)
	}
	if e.Dvs != nil {
		refs = append(refs, e.Dvs.Dvs)
	}
	if e.Datacenter != nil {
		refs = append(refs, e.Datacenter.Datacenter)
	}
	return refs
}

func entityMatches(ev types.BaseEvent, spec *types.EventFilterSpecByEntity) bool {
	for _, ref := range eventRefs(ev) {
		switch types.EventFilterSpecRecursionOption(spec.Recursion) {
		case types.EventFilterSpecRecursionOptionSelf:
			if ref == spec.Entity {
				return true
			}
		case types.EventFilterSpecRecursionOptionChildren:
			if p := parentOf(ref); p != nil && *p == spec.Entity {
				return true
			}
		default: // all
			if ref == spec.Entity || isDescendant(ref, spec.Entity) {
				return true
			}
		}
	}
	return false
}

func parentOf(ref types.ManagedObjectReference) *types.ManagedObjectReference {
	if me, ok := simulator.Map.Get(ref).(mo.Entity); ok {
		return me.Entity().Parent
	}
	return nil
}

func isDescendant(ref, ancestor types.ManagedObjectReference) bool {
	for i := 0; i < 64; i++ {
		p := parentOf(ref)
		if p == nil {
			return false
		}
		if *p == ancestor {
			return true
		}
		ref = *p
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func anyContains(list, candidates []string) bool {
	for _, c := range candidates {
		if contains(list, c) {
			return true
		}
	}
	return false
}
