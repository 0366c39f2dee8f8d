package evtx

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"reflect"
	"testing"
	"time"
	"unicode/utf16"
)

// bxml writes Binary XML into a chunk under construction; offsets are
// chunk offsets, as in a real file.
type bxml struct {
	b []byte
}

func (x *bxml) pos() uint32 { return uint32(len(x.b)) }
func (x *bxml) u8(v byte)   { x.b = append(x.b, v) }
func (x *bxml) u16(v uint16) {
	x.b = binary.LittleEndian.AppendUint16(x.b, v)
}
func (x *bxml) u32(v uint32) {
	x.b = binary.LittleEndian.AppendUint32(x.b, v)
}

func (x *bxml) utf16(s string) {
	for _, u := range utf16.Encode([]rune(s)) {
		x.u16(u)
	}
}

// name writes a name offset that points right behind it, then the name.
func (x *bxml) name(s string) {
	x.u32(x.pos() + 4)
	x.u32(0) // next name in the hash chain
	x.u16(0) // hash, not checked by the reader
	x.u16(uint16(len(utf16.Encode([]rune(s)))))
	x.utf16(s)
	x.u16(0)
}

func (x *bxml) open(name string, attrs bool) {
	if attrs {
		x.u8(tokOpenStart | tokMoreBit)
	} else {
		x.u8(tokOpenStart)
	}
	x.u16(0xffff) // dependency identifier
	x.u32(0)      // data size, not used by the reader
	x.name(name)
	if attrs {
		x.u32(0) // attribute list size
	}
}

func (x *bxml) attr(name string) { x.u8(tokAttribute); x.name(name) }

func (x *bxml) text(s string) {
	x.u8(tokValue)
	x.u8(byte(TypeString))
	x.u16(uint16(len(utf16.Encode([]rune(s)))))
	x.utf16(s)
}

func (x *bxml) subst(index uint16, typ ValueType, optional bool) {
	if optional {
		x.u8(tokOptionalSubst)
	} else {
		x.u8(tokNormalSubst)
	}
	x.u16(index)
	x.u8(byte(typ))
}

// substValue is one substitution value of a template instance: fixed
// bytes, or write for a value that must be encoded in place (Binary XML,
// whose name offsets are chunk offsets).
type substValue struct {
	typ   ValueType
	data  []byte
	write func(x *bxml)
}

// template writes a template instance with its definition inline.
func (x *bxml) template(body func(), values []substValue) {
	x.u8(tokTemplate)
	x.u8(1)
	x.u32(7) // template id
	x.u32(x.pos() + 4)
	x.u32(0)                               // next template definition
	x.b = append(x.b, make([]byte, 16)...) // GUID
	sizeAt := len(x.b)
	x.u32(0)
	start := x.pos()
	x.b = append(x.b, tokFragmentHeader, 1, 1, 0)
	body()
	x.u8(tokEOF)
	binary.LittleEndian.PutUint32(x.b[sizeAt:], x.pos()-start)
	x.u32(uint32(len(values)))
	descs := len(x.b)
	for _, v := range values {
		x.u16(0)
		x.u8(byte(v.typ))
		x.u8(0)
	}
	for i, v := range values {
		start := x.pos()
		if v.write != nil {
			v.write(x)
		} else {
			x.b = append(x.b, v.data...)
		}
		binary.LittleEndian.PutUint16(x.b[descs+4*i:], uint16(x.pos()-start))
	}
}

// buildFile wraps one record body into a file of one chunk with valid
// checksums.
func buildFile(recordID uint64, written uint64, body func(x *bxml)) []byte {
	x := &bxml{b: make([]byte, chunkHeaderSize)}
	copy(x.b, chunkMagic)
	rec := x.pos()
	x.b = append(x.b, recordMagic...)
	x.u32(0)
	x.b = binary.LittleEndian.AppendUint64(x.b, recordID)
	x.b = binary.LittleEndian.AppendUint64(x.b, written)
	body(x)
	size := x.pos() - rec + 4
	x.u32(size)
	binary.LittleEndian.PutUint32(x.b[rec+4:], size)
	free := x.pos()
	chunkData := make([]byte, chunkSize)
	copy(chunkData, x.b)
	binary.LittleEndian.PutUint32(chunkData[48:], free)

	file := make([]byte, fileHeaderSize)
	copy(file, fileMagic)
	binary.LittleEndian.PutUint16(file[42:], 1)
	binary.LittleEndian.PutUint32(file[124:], crc32.ChecksumIEEE(file[:120]))
	file = append(file, chunkData...)
	fixChecksums(file)
	return file
}

// TestTokensAndUserData decodes a hand-built record that uses the tokens
// the shared files lack (CDATA, character and entity references, a
// processing instruction, an optional substitution without value, a
// nested Binary XML value) and checks the Winlogbeat fields.
func TestTokensAndUserData(t *testing.T) {
	const ticks = 131974273243199447 // 2019-03-19T00:02:04.3199447Z
	file := buildFile(42, ticks, func(x *bxml) {
		x.b = append(x.b, tokFragmentHeader, 1, 1, 0)
		x.template(func() {
			x.open("Event", true)
			x.attr("xmlns")
			x.text("http://schemas.microsoft.com/win/2004/08/events/event")
			x.u8(tokCloseStart)
			x.open("System", false)
			x.u8(tokCloseStart)
			x.open("Provider", true)
			x.attr("Name")
			x.text("Test-Provider")
			x.u8(tokCloseEmpty)
			x.open("EventID", false)
			x.u8(tokCloseStart)
			x.subst(0, TypeUint16, false)
			x.u8(tokEndElement)
			x.open("Level", false)
			x.u8(tokCloseStart)
			x.subst(5, TypeUint8, false)
			x.u8(tokEndElement)
			x.open("TimeCreated", true)
			x.attr("SystemTime")
			x.subst(1, TypeFileTime, false)
			x.u8(tokCloseEmpty)
			x.open("EventRecordID", false)
			x.u8(tokCloseStart)
			x.subst(2, TypeUint64, false)
			x.u8(tokEndElement)
			x.open("Execution", true)
			x.attr("ProcessID")
			x.subst(3, TypeUint32, true)
			x.u8(tokCloseEmpty)
			x.open("Channel", false)
			x.u8(tokCloseStart)
			x.text("Test/Operational")
			x.u8(tokEndElement)
			x.u8(tokEndElement) // System
			x.subst(4, TypeBinXML, true)
			x.u8(tokEndElement) // Event
		}, []substValue{
			{typ: TypeUint16, data: []byte{0x39, 0x05}},
			{typ: TypeFileTime, data: le64(ticks)},
			{typ: TypeUint64, data: le64(42)},
			{typ: TypeNull},
			{typ: TypeBinXML, write: writeUserData},
			{typ: TypeUint8, data: []byte{3}},
		})
		x.u8(tokEOF)
	})

	f, err := Open(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}

	var recs []Record
	st, err := f.Records(func(r Record) error { recs = append(recs, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("records %d, stats %+v", len(recs), st)
	}

	r := recs[0]
	want := map[string]any{
		"winlog.channel":                      "Test/Operational",
		"winlog.event_id":                     int64(1337),
		"event.code":                          "1337",
		"winlog.provider_name":                "Test-Provider",
		"event.provider":                      "Test-Provider",
		"winlog.record_id":                    int64(42),
		"log.level":                           "warning",
		"event.dataset":                       "windows.test/operational",
		"event.module":                        "windows",
		"event.kind":                          "event",
		"winlog.user_data.Info.#attributes.a": "x<y",
		"winlog.user_data.Info.#text":         "text & moreCDATA <raw>A",
		"winlog.user_data.Info.Count":         int64(5),
		"winlog.user_data.Info.Empty":         nil,
	}
	if !reflect.DeepEqual(map[string]any(r.Fields), want) {
		t.Errorf("fields\n%#v\nexpected\n%#v", r.Fields, want)
	}

	if wantTime := time.Date(2019, 3, 19, 0, 2, 4, 319944700, time.UTC); !r.Timestamp.Equal(wantTime) || !r.Time.Equal(wantTime) {
		t.Errorf("timestamp %v, written %v, expected %v", r.Timestamp, r.Time, wantTime)
	}

	if r.ID != 42 {
		t.Errorf("record id %d", r.ID)
	}

	wantXML := `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>` +
		`<Provider Name="Test-Provider"/><EventID>1337</EventID><Level>3</Level>` +
		`<TimeCreated SystemTime="2019-03-19T00:02:04.319944Z"/><EventRecordID>42</EventRecordID>` +
		`<Execution/><Channel>Test/Operational</Channel></System>` +
		`<UserData><Info a="x&lt;y">text &amp; moreCDATA &lt;raw&gt;A<Count>5</Count><Empty/></Info></UserData></Event>`
	if got := r.Root.XML(); got != wantXML {
		t.Errorf("XML\n%s\nexpected\n%s", got, wantXML)
	}
}

// writeUserData writes the Binary XML value that becomes UserData:
//
//	<UserData><Info a="x&lt;y">text &amp; more<![CDATA[CDATA <raw>]]>&#65;
//	<Count>5</Count><Empty/></Info><?target data?></UserData>
//
// with Count filled by a nested template instance.
func writeUserData(x *bxml) {
	x.b = append(x.b, tokFragmentHeader, 1, 1, 0)
	x.open("UserData", false)
	x.u8(tokCloseStart)
	x.open("Info", true)
	x.attr("a")
	x.text("x")
	x.u8(tokEntityRef)
	x.name("lt")
	x.text("y")
	x.u8(tokCloseStart)
	x.text("text ")
	x.u8(tokEntityRef)
	x.name("amp")
	x.text(" more")
	x.u8(tokCDATA)
	x.u16(uint16(len("CDATA <raw>")))
	x.utf16("CDATA <raw>")
	x.u8(tokCharRef)
	x.u16('A')
	x.template(func() {
		x.open("Count", false)
		x.u8(tokCloseStart)
		x.subst(0, TypeInt32, false)
		x.u8(tokEndElement)
	}, []substValue{{typ: TypeInt32, data: []byte{5, 0, 0, 0}}})
	x.open("Empty", false)
	x.u8(tokCloseEmpty)
	x.u8(tokEndElement) // Info
	x.u8(tokPITarget)
	x.name("target")
	x.u8(tokPIData)
	x.u16(4)
	x.utf16("data")
	x.u8(tokEndElement) // UserData
	x.u8(tokEOF)
}

// TestElementBudget checks that a tree whose shared subtrees expand past
// maxElements is rejected, and a normal one is not.
func TestElementBudget(t *testing.T) {
	leaf := &Element{Name: "Leaf"}
	level := leaf
	for range 20 {
		// Each level refers to the one below twice: 2^20 elements in all.
		level = &Element{Name: "Level", Children: []*Element{level, level}}
	}

	budget := maxElements
	if withinBudget(level, &budget) {
		t.Error("a tree of 2^21 element references passed the budget")
	}

	budget = maxElements
	small := &Element{Name: "Event", Children: []*Element{{Name: "System"}, {Name: "EventData"}}}
	if !withinBudget(small, &budget) {
		t.Error("a tree of 3 elements failed the budget")
	}
}
