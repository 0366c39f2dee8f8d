package elastic

import (
	"github.com/canhgac/canhgac/i18n"
)

func init() {
	i18n.Register(map[string]i18n.Message{
		"elastic.unreachable": {
			EN: "Elasticsearch at %s is unreachable: start the node or correct elasticsearch.urls (or --elasticsearch) in the configuration",
			VI: "Không kết nối được Elasticsearch tại %s: hãy khởi động nút hoặc sửa elasticsearch.urls (hoặc --elasticsearch) trong cấu hình"},
		"elastic.auth": {
			EN: "Elasticsearch at %s rejected the credentials: check elastic.username and elastic.password or elastic.api_key",
			VI: "Elasticsearch tại %s từ chối thông tin xác thực: hãy kiểm tra elastic.username và elastic.password hoặc elastic.api_key"},
		"elastic.option.urls": {
			EN: "elasticsearch.urls (or --elasticsearch) is missing: give the address of at least one Elasticsearch node, for example http://127.0.0.1:9200",
			VI: "Thiếu elasticsearch.urls (hoặc --elasticsearch): hãy nhập địa chỉ của ít nhất một nút Elasticsearch, ví dụ http://127.0.0.1:9200"},
		"elastic.option.region": {
			EN: "elastic.region is missing: set the region of this store, for example dc1",
			VI: "Thiếu elastic.region: hãy đặt vùng của kho dữ liệu này, ví dụ dc1"},
		"elastic.option.region_invalid": {
			EN: "invalid elastic.region %q: use lower-case letters, digits, '.' and '_' only, for example dc1",
			VI: "elastic.region %q không hợp lệ: chỉ dùng chữ thường, chữ số, '.' và '_', ví dụ dc1"},
		"elastic.option.negative": {
			EN: "invalid elastic.%s %d: the value must not be negative",
			VI: "elastic.%s %d không hợp lệ: giá trị không được âm"},
		"elastic.option.client": {
			EN: "cannot create the Elasticsearch client for %s: check the URLs in elasticsearch.urls (or --elasticsearch)",
			VI: "Không tạo được máy khách Elasticsearch cho %s: hãy kiểm tra các URL trong elasticsearch.urls (hoặc --elasticsearch)"},
		"elastic.setup": {
			EN: "setting up the Elasticsearch indices on %s failed: check the node's log and that the user may manage index templates",
			VI: "Thiết lập chỉ mục Elasticsearch trên %s thất bại: hãy xem nhật ký của nút và quyền quản lý index template của người dùng"},
		"elastic.search.window": {
			EN: "page too deep: offset %d plus limit %d exceeds %d results; narrow the time range or the query",
			VI: "Trang quá sâu: offset %d cộng limit %d vượt quá %d kết quả; hãy thu hẹp khoảng thời gian hoặc truy vấn"},
		"elastic.alert.status_invalid": {
			EN: "invalid alert status %d: use open, acknowledged or closed",
			VI: "Trạng thái cảnh báo %d không hợp lệ: dùng open, acknowledged hoặc closed"},
		"elastic.alert.reason_missing": {
			EN: "closing alert %s needs a reason",
			VI: "Đóng cảnh báo %s cần nêu lý do"},
		"elastic.alert.actor_missing": {
			EN: "changing alert %s needs the name of the acting user",
			VI: "Thay đổi cảnh báo %s cần tên người thực hiện"},
		"elastic.alert.closed": {
			EN: "alert %s is closed and cannot change to %s; a new match opens a new alert",
			VI: "Cảnh báo %s đã đóng và không thể chuyển sang %s; lần khớp mới sẽ mở cảnh báo mới"},
		"elastic.alert.same": {
			EN: "alert %s is already %s",
			VI: "Cảnh báo %s đã ở trạng thái %s"},
		"elastic.histogram.interval": {
			EN: "invalid histogram interval %s: use a whole number of milliseconds, at least 1ms",
			VI: "Khoảng biểu đồ %s không hợp lệ: dùng số nguyên mili giây, tối thiểu 1ms"},
		"elastic.field.invalid": {
			EN: "invalid field name %q for grouping: use a plain dotted ECS name such as event.dataset",
			VI: "Tên trường %q không dùng để nhóm được: hãy dùng tên ECS có dấu chấm, ví dụ event.dataset"},
	})
}

// Error is an error that a user sees: it carries a catalog key and its
// arguments, so the CLI and the console show it in the user's language,
// and wraps the underlying cause.
type Error struct {
	// Key is the catalog key of the message and Args its arguments.
	Key  string
	Args []any
	// Err is the cause, or nil.
	Err error
}

// Error returns the English message with the cause.
func (e *Error) Error() string {
	s := "elastic: " + i18n.T(i18n.EN, e.Key, e.Args...)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Message returns the message in lang, without the technical cause.
func (e *Error) Message(lang i18n.Lang) string { return i18n.T(lang, e.Key, e.Args...) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
