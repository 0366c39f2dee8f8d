package main

import "github.com/canhgac/canhgac/i18n"

// Messages of the commands that call a running console: login, alerts and
// search.
func init() {
	i18n.Register(map[string]i18n.Message{
		"cli.flag.server": {
			VI: "địa chỉ giao diện web của canhgac (mặc định: biến CANHGAC_SERVER, máy chủ đã đăng nhập, hoặc http://127.0.0.1:8480)",
			EN: "address of the canhgac console (default: CANHGAC_SERVER, the server of the last login, or http://127.0.0.1:8480)",
		},
		"cli.flag.from":   {VI: "từ thời điểm: RFC 3339 hoặc tương đối như now-15m, now-24h, now-7d", EN: "from time: RFC 3339 or relative such as now-15m, now-24h, now-7d"},
		"cli.flag.to":     {VI: "đến thời điểm (mặc định: bây giờ)", EN: "to time (default: now)"},
		"cli.flag.limit":  {VI: "số kết quả tối đa mỗi trang", EN: "maximum results per page"},
		"cli.flag.offset": {VI: "bỏ qua bao nhiêu kết quả đầu (phân trang)", EN: "results to skip (paging)"},

		"cli.api.bad_server": {VI: "địa chỉ máy chủ %q không hợp lệ: dùng dạng http://127.0.0.1:8480", EN: "invalid server address %q: use the form http://127.0.0.1:8480"},
		"cli.api.unreachable": {
			VI: "không kết nối được tới %s: %v — kiểm tra \"canhgac run\" đang chạy và địa chỉ --server",
			EN: "cannot reach %s: %v — check that \"canhgac run\" is running and the --server address",
		},
		"cli.api.unauthorized": {
			VI: "%s — đăng nhập bằng \"canhgac login\" hoặc đặt biến CANHGAC_TOKEN",
			EN: "%s — sign in with \"canhgac login\" or set CANHGAC_TOKEN",
		},
		"cli.api.status":     {VI: "máy chủ trả lời %s (%s)", EN: "the server answered %s (%s)"},
		"cli.api.bad_answer": {VI: "câu trả lời của %s không hợp lệ: %v", EN: "invalid response from %s: %v"},

		"cli.login.summary": {VI: "đăng nhập vào giao diện web và lưu mã truy cập cho các lệnh khác", EN: "sign in to the console and store the access token for the other commands"},
		"cli.login.usage": {
			VI: "Cách dùng: canhgac login [--server URL] [--user TÊN] [--password-stdin]\n\nMật khẩu lấy từ biến CANHGAC_PASSWORD, từ đầu vào chuẩn (--password-stdin) hoặc hỏi trên terminal.\nMã truy cập được lưu cho các lệnh alerts và search; trong kịch bản có thể đặt sẵn mã bằng biến CANHGAC_TOKEN\nvà địa chỉ máy chủ bằng CANHGAC_SERVER.",
			EN: "Usage: canhgac login [--server URL] [--user NAME] [--password-stdin]\n\nThe password comes from CANHGAC_PASSWORD, standard input (--password-stdin) or a terminal prompt.\nThe token is stored for the alerts and search commands; scripts can set one in CANHGAC_TOKEN\nand the server address in CANHGAC_SERVER instead.",
		},
		"cli.login.flag.user":           {VI: "tên người dùng", EN: "user name"},
		"cli.login.flag.password_stdin": {VI: "đọc mật khẩu từ đầu vào chuẩn", EN: "read the password from standard input"},
		"cli.login.prompt":              {VI: "Mật khẩu: ", EN: "Password: "},
		"cli.login.no_password": {
			VI: "không có mật khẩu: nhập trên terminal, dùng --password-stdin hoặc đặt biến CANHGAC_PASSWORD",
			EN: "no password: type it on a terminal, use --password-stdin or set CANHGAC_PASSWORD",
		},
		"cli.login.save_failed": {VI: "không lưu được mã truy cập: %v", EN: "cannot store the access token: %v"},
		"cli.login.done": {
			VI: "Đã đăng nhập với tên %s (vai trò %s) vào %s; phiên hết hạn lúc %s. Mã truy cập lưu trong %s.",
			EN: "Signed in as %s (role %s) to %s; the session expires at %s. The token is stored in %s.",
		},

		"cli.alerts_list.summary": {VI: "liệt kê cảnh báo", EN: "list alerts"},
		"cli.alerts_list.usage": {
			VI: "Cách dùng: canhgac alerts list [--level MỨC] [--status open|acknowledged|closed] [--region VÙNG] [--rule MÃ] [--from T] [--to T] [--format table|json|csv]",
			EN: "Usage: canhgac alerts list [--level LEVEL] [--status open|acknowledged|closed] [--region REGION] [--rule ID] [--from T] [--to T] [--format table|json|csv]",
		},
		"cli.alerts_show.summary": {VI: "xem một cảnh báo và các sự kiện khớp", EN: "show one alert and its matching events"},
		"cli.alerts_show.usage":   {VI: "Cách dùng: canhgac alerts show [--format table|json] MÃ", EN: "Usage: canhgac alerts show [--format table|json] ID"},
		"cli.alerts_ack.summary":  {VI: "xác nhận đã tiếp nhận một cảnh báo", EN: "acknowledge an alert"},
		"cli.alerts_ack.usage":    {VI: "Cách dùng: canhgac alerts ack MÃ", EN: "Usage: canhgac alerts ack ID"},
		"cli.alerts_close.summary": {
			VI: "đóng một cảnh báo kèm lý do",
			EN: "close an alert with a reason",
		},
		"cli.alerts_close.usage": {VI: "Cách dùng: canhgac alerts close MÃ --reason LÝ_DO", EN: "Usage: canhgac alerts close ID --reason TEXT"},
		"cli.alerts.flag.level":  {VI: "lọc theo mức độ: informational, low, medium, high, critical", EN: "filter by level: informational, low, medium, high, critical"},
		"cli.alerts.flag.status": {VI: "lọc theo trạng thái: open, acknowledged, closed", EN: "filter by status: open, acknowledged, closed"},
		"cli.alerts.flag.region": {VI: "lọc theo vùng (dc1, dc2)", EN: "filter by region (dc1, dc2)"},
		"cli.alerts.flag.rule":   {VI: "lọc theo mã quy tắc phát hiện", EN: "filter by detection rule id"},
		"cli.alerts.flag.reason": {VI: "lý do đóng cảnh báo (bắt buộc)", EN: "why the alert is closed (required)"},
		"cli.alerts.reason_required": {
			VI: "thiếu lý do: đóng cảnh báo cần --reason \"...\"",
			EN: "missing reason: closing an alert needs --reason \"...\"",
		},
		"cli.alerts.col.id":            {VI: "MÃ", EN: "ID"},
		"cli.alerts.col.last_seen":     {VI: "LẦN CUỐI", EN: "LAST SEEN"},
		"cli.alerts.col.first_seen":    {VI: "LẦN ĐẦU", EN: "FIRST SEEN"},
		"cli.alerts.col.level":         {VI: "MỨC ĐỘ", EN: "LEVEL"},
		"cli.alerts.col.status":        {VI: "TRẠNG THÁI", EN: "STATUS"},
		"cli.alerts.col.count":         {VI: "SỐ LẦN", EN: "COUNT"},
		"cli.alerts.col.region":        {VI: "VÙNG", EN: "REGION"},
		"cli.alerts.col.rule":          {VI: "QUY TẮC", EN: "RULE"},
		"cli.alerts.col.reason":        {VI: "LÝ DO", EN: "REASON"},
		"cli.alerts.col.tags":          {VI: "NHÃN", EN: "TAGS"},
		"cli.alerts.col.tactics":       {VI: "CHIẾN THUẬT", EN: "TACTICS"},
		"cli.alerts.col.techniques":    {VI: "KỸ THUẬT", EN: "TECHNIQUES"},
		"cli.alerts.col.rule_status":   {VI: "ĐỘ HOÀN THIỆN QUY TẮC", EN: "RULE STATUS"},
		"cli.alerts.col.falsepositive": {VI: "DƯƠNG TÍNH GIẢ", EN: "FALSE POSITIVE"},
		"cli.alerts.col.fields":        {VI: "TRƯỜNG CHÍNH", EN: "KEY FIELDS"},
		"cli.alerts.total":             {VI: "%d / %d cảnh báo", EN: "%d of %d alerts"},
		"cli.alerts.events":            {VI: "Sự kiện khớp (%d):", EN: "Matching events (%d):"},
		"cli.alerts.events_capped": {
			VI: "Đang hiển thị %d sự kiện đầu trong %d lần khớp: mỗi cảnh báo lưu tối đa %d mã sự kiện; dùng \"canhgac search\" để xem hết",
			EN: "Showing the first %d events of %d matches: an alert keeps at most %d event ids; use \"canhgac search\" for all",
		},
		"cli.alerts.acked":  {VI: "Đã xác nhận cảnh báo %s", EN: "Acknowledged alert %s"},
		"cli.alerts.closed": {VI: "Đã đóng cảnh báo %s", EN: "Closed alert %s"},

		"cli.search.summary": {VI: "tìm kiếm sự kiện bằng KQL", EN: "search events with KQL"},
		"cli.search.usage": {
			VI: "Cách dùng: canhgac search 'KQL' [--from T] [--to T] [--limit N] [--format table|json|csv]\n\nVí dụ: canhgac search 'event.outcome:failure and source.ip:203.0.113.0/24' --from now-7d",
			EN: "Usage: canhgac search 'KQL' [--from T] [--to T] [--limit N] [--format table|json|csv]\n\nExample: canhgac search 'event.outcome:failure and source.ip:203.0.113.0/24' --from now-7d",
		},
		"cli.search.total":       {VI: "%d / %d sự kiện (%d ms)", EN: "%d of %d events (%d ms)"},
		"cli.events.col.time":    {VI: "THỜI GIAN", EN: "TIME"},
		"cli.events.col.dataset": {VI: "TẬP DỮ LIỆU", EN: "DATASET"},
		"cli.events.col.host":    {VI: "MÁY", EN: "HOST"},
		"cli.events.col.source":  {VI: "NGUỒN", EN: "SOURCE"},
		"cli.events.col.user":    {VI: "NGƯỜI DÙNG", EN: "USER"},
		"cli.events.col.message": {VI: "NỘI DUNG", EN: "MESSAGE"},
	})
}
