package main

import "github.com/canhgac/canhgac/i18n"

// Messages of `canhgac run`.
func init() {
	i18n.Register(map[string]i18n.Message{
		"cli.run.summary": {
			VI: "chạy nền tảng trọn gói trên máy này: cảm biến nhật ký và gói tin, phát hiện, kho sự kiện và giao diện web",
			EN: "run the all-in-one platform on this machine: log and packet sensors, detection, event store and web console",
		},
		"cli.run.usage": {
			VI: "Cách dùng: canhgac run [--data THƯ_MỤC] [--config TỆP] [--capture GIAO_DIỆN] [cờ]\n\n" +
				"Theo dõi nhật ký hệ thống của máy này (/var/log/auth.log, /var/log/syslog… — tệp nào có), nhận syslog\n" +
				"qua UDP và TCP trên 127.0.0.1, tùy chọn bắt gói tin từ một giao diện mạng, chạy quy tắc phát hiện, lưu\n" +
				"sự kiện và cảnh báo vào kho nhúng, và phục vụ giao diện web cùng API JSON trên 127.0.0.1.\n" +
				"Ctrl-C dừng gọn gàng; lần chạy sau tiếp tục đúng chỗ đã dừng.",
			EN: "Usage: canhgac run [--data DIR] [--config FILE] [--capture IFACE] [flags]\n\n" +
				"Tails this machine's system logs (/var/log/auth.log, /var/log/syslog, … whichever exist), receives syslog\n" +
				"over UDP and TCP on 127.0.0.1, optionally captures packets from a network interface, runs the detection\n" +
				"rules, stores events and alerts in the embedded store, and serves the web console and JSON API on 127.0.0.1.\n" +
				"Ctrl-C stops it cleanly; the next start continues where it stopped.",
		},
		"cli.run.flag.config":     {VI: "tệp cấu hình YAML (mặc định: cấu hình sẵn có)", EN: "YAML config file (default: built-in settings)"},
		"cli.run.flag.data":       {VI: "thư mục dữ liệu: kho sự kiện, checkpoint, người dùng (mặc định canhgac-data)", EN: "data folder: event store, checkpoints, users (default canhgac-data)"},
		"cli.run.flag.capture":    {VI: "giao diện mạng để bắt gói tin trực tiếp, ví dụ eth0 (cần quyền root hoặc CAP_NET_RAW)", EN: "network interface for live packet capture, such as eth0 (needs root or CAP_NET_RAW)"},
		"cli.run.flag.listen":     {VI: "địa chỉ host:port của giao diện web (mặc định 127.0.0.1:8480)", EN: "host:port of the web console (default 127.0.0.1:8480)"},
		"cli.run.flag.syslog_udp": {VI: "địa chỉ nhận syslog UDP, \"off\" để tắt (mặc định 127.0.0.1:5514)", EN: "syslog UDP address, \"off\" to disable (default 127.0.0.1:5514)"},
		"cli.run.flag.syslog_tcp": {VI: "địa chỉ nhận syslog TCP, \"off\" để tắt (mặc định 127.0.0.1:5514)", EN: "syslog TCP address, \"off\" to disable (default 127.0.0.1:5514)"},
		"cli.run.flag.region":     {VI: "tên vùng của trung tâm dữ liệu, ghi vào observer.geo.name (mặc định dc1)", EN: "region name, set as observer.geo.name (default dc1)"},
		"cli.run.flag.rules":      {VI: "tệp hoặc thư mục quy tắc Sigma bổ sung, cách nhau bởi dấu phẩy", EN: "extra Sigma rule files or folders, comma-separated"},
		"cli.run.flag.evtx_dir":   {VI: "thư mục chứa tệp EVTX của Windows cần theo dõi (các tệp *.evtx trong đó); lặp lại được", EN: "folder of Windows EVTX files to watch (the *.evtx files in it); repeatable"},
		"cli.run.flag.file":       {VI: "tệp nhật ký cần theo dõi thêm, dạng ĐƯỜNG_DẪN hoặc ĐƯỜNG_DẪN:ĐỊNH_DẠNG; lặp lại được", EN: "extra log file to tail, as PATH or PATH:FORMAT; repeatable"},
		"cli.run.flag.no_system_logs": {
			VI: "không theo dõi nhật ký hệ thống mặc định (chỉ các tệp --file)",
			EN: "do not tail the default system logs (only the --file ones)",
		},
		"cli.run.data_dir":   {VI: "không tạo được thư mục dữ liệu %s: %v", EN: "cannot create the data folder %s: %v"},
		"cli.run.store_open": {VI: "không mở được kho sự kiện trong %s: %v", EN: "cannot open the event store in %s: %v"},
		"cli.run.state_invalid": {
			VI: "không đọc được trạng thái tương quan đã lưu %s: %v. Hãy chuyển tệp này sang chỗ khác rồi chạy lại; các cửa sổ tương quan đang mở sẽ bắt đầu lại từ đầu",
			EN: "cannot read the saved correlation state %s: %v. Move the file away and run again; open correlation windows then start afresh",
		},
		"cli.run.checkpoints": {VI: "không mở được thư mục checkpoint trong %s: %v", EN: "cannot open the checkpoint folder in %s: %v"},
		"cli.run.users":       {VI: "không mở được tệp người dùng %s: %v", EN: "cannot open the users file %s: %v"},
		"cli.run.listen": {
			VI: "không lắng nghe được trên %s: %v — cổng có thể đang bị dùng; chọn cổng khác bằng --listen",
			EN: "cannot listen on %s: %v — the port may be in use; pick another with --listen",
		},
		"cli.run.console": {VI: "Giao diện web: %s", EN: "Web console: %s"},
		"cli.run.admin_created": {
			VI: "Đã tạo tài khoản quản trị \"admin\" với mật khẩu: %s\n(chỉ hiển thị một lần; tài khoản lưu trong %s)",
			EN: "Created the administrator account \"admin\" with password: %s\n(shown only once; accounts are stored in %s)",
		},
		"cli.run.admin_env": {
			VI: "Đã tạo tài khoản quản trị \"admin\" với mật khẩu từ biến CANHGAC_ADMIN_PASSWORD.",
			EN: "Created the administrator account \"admin\" with the password from CANHGAC_ADMIN_PASSWORD.",
		},
		"cli.run.admin_exists": {
			VI: "Đăng nhập bằng tài khoản đã có (lưu trong %s).",
			EN: "Sign in with an existing account (stored in %s).",
		},
		"cli.run.file_ok":            {VI: "Theo dõi %s", EN: "Tailing %s"},
		"cli.run.imported":           {VI: "Đã nhập %s: %d sự kiện, %d đầu vào không phân tích được", EN: "Imported %s: %d events, %d unparseable inputs"},
		"cli.run.import_done_before": {VI: "Bỏ qua %s: đã nhập trước đây và chưa thay đổi", EN: "Skipping %s: imported before and unchanged"},
		"cli.run.flag.import":        {VI: "tệp hoặc thư mục đọc một lần, trọn vẹn (pcap, EVTX, JSON, nhật ký), như canhgac hunt; lặp lại được", EN: "file or folder read once, whole (pcap, EVTX, JSON, logs), as canhgac hunt reads it; repeatable"},
		"cli.run.evtx_dir":           {VI: "Theo dõi thư mục EVTX %s (đọc bản ghi mới mỗi %s)", EN: "Watching the EVTX folder %s (new records every %s)"},
		"cli.run.evtx_missing":       {VI: "Thư mục EVTX %s chưa có; sẽ đọc khi nó xuất hiện", EN: "The EVTX folder %s does not exist yet; it is read once it appears"},
		"cli.run.file_glob":          {VI: "Theo dõi các tệp khớp %s", EN: "Tailing files matching %s"},
		"cli.run.file_missing":       {VI: "Chưa có %s: sẽ đọc khi tệp xuất hiện", EN: "%s does not exist: it will be read when it appears"},
		"cli.run.file_denied": {
			VI: "Không có quyền đọc %s: chạy với quyền root hoặc thêm người dùng vào nhóm adm",
			EN: "No permission to read %s: run as root or add the user to the adm group",
		},
		"cli.run.file_error":  {VI: "Không đọc được %s: %v", EN: "Cannot read %s: %v"},
		"cli.run.syslog":      {VI: "Nhận syslog %s trên %s", EN: "Receiving syslog over %s on %s"},
		"cli.run.capture":     {VI: "Bắt gói tin trên giao diện %s", EN: "Capturing packets on interface %s"},
		"cli.run.stopping":    {VI: "Đang dừng: ghi nốt các sự kiện đã nhận…", EN: "Stopping: writing the events already received…"},
		"cli.run.stopped":     {VI: "Đã dừng.", EN: "Stopped."},
		"cli.run.rules_count": {VI: "Đã nạp %d quy tắc phát hiện", EN: "Loaded %d detection rules"},
	})
}
