package filesource

import (
	"reflect"
	"testing"
)

// FuzzDecodeState checks that the cursor-state decoder, which reads values
// from storage, never panics, accepts only consistent states, and that an
// accepted state survives encoding.
func FuzzDecodeState(f *testing.F) {
	f.Add(encodeState(&fileState{Dev: 65024, Ino: 1234, Size: 155, MTime: 1795803416530576576, Format: "syslog", Off: 111, Line: 2, Ctx: 40, FP: "72bee7ece521fd1f89b053bd356e293f", FPLen: 155}))
	f.Add(encodeState(&fileState{Format: "csv", Off: 73, Line: 2, Ctx: 73, Header: "TimeGenerated,Id", FP: "c0865f04258a8c9d220e8fd48711d666", FPOff: 31, FPLen: 42}))
	f.Add(encodeState(&fileState{Doc: true, Done: true, Size: 10, Items: 3, From: 100, FromLine: 4}))
	f.Add(`{"v":1,"off":-5}`)
	f.Add(`{"v":1,"off":1,"line":2}`)
	f.Add(`{"v":1} {}`)
	f.Add(`{"v":1,"fp":"zz","fplen":3}`)
	f.Add(`null`)
	f.Add(`{"v":1,"off":9223372036854775807,"line":9223372036854775807}`)
	f.Fuzz(func(t *testing.T, s string) {
		st, err := decodeState(s)
		if err != nil {
			return
		}
		if st.Off < 0 || st.Line < 0 || st.Ctx > st.Off || st.FPLen > fpSize || len(st.Header) > maxHeader {
			t.Fatalf("inconsistent state accepted: %+v", st)
		}
		again, err := decodeState(encodeState(st))
		if err != nil {
			t.Fatalf("re-encoded state rejected: %v", err)
		}
		if !reflect.DeepEqual(st, again) {
			t.Fatalf("round trip changed the state: %+v != %+v", st, again)
		}
	})
}
