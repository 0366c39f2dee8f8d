package main

import "github.com/canhgac/canhgac/i18n"

// Messages of `canhgac sensor` and `canhgac pipeline`.
func init() {
	i18n.Register(map[string]i18n.Message{
		"cli.sensor.summary": {
			VI: "chạy cảm biến: đọc nhật ký, EVTX, syslog và gói tin rồi gửi sự kiện lên Kafka của vùng",
			EN: "run a sensor: read logs, EVTX, syslog and packets and publish the events to the region's Kafka",
		},
		"cli.sensor.usage": {
			VI: "Cách dùng: canhgac sensor [--brokers HOST:PORT,...] [--region VÙNG] [--config TỆP] [cờ nguồn của canhgac run]\n\n" +
				"Đọc cùng các nguồn như canhgac run (tệp nhật ký, thư mục EVTX, syslog, bắt gói tin) và gửi từng sự kiện\n" +
				"lên chủ đề Kafka canhgac.events.<vùng> (producer idempotent, acks=all). Khi Kafka không truy cập được,\n" +
				"sự kiện được ghi vào hàng đợi trên đĩa (THƯ_MỤC_DỮ_LIỆU/spool) và gửi lại đúng thứ tự khi Kafka trở lại.\n" +
				"Checkpoint chỉ tiến khi Kafka đã xác nhận hoặc hàng đợi đã giữ sự kiện. Số liệu ở /metrics.",
			EN: "Usage: canhgac sensor [--brokers HOST:PORT,...] [--region REGION] [--config FILE] [source flags of canhgac run]\n\n" +
				"Reads the same sources as canhgac run (log files, EVTX folders, syslog, packet capture) and publishes each\n" +
				"event to the Kafka topic canhgac.events.<region> (idempotent producer, acks=all). While Kafka is unreachable,\n" +
				"events go to a disk queue (DATA_DIR/spool) and are sent in order once Kafka is back. Checkpoints advance\n" +
				"only when Kafka acknowledged an event or the queue holds it. Metrics are served at /metrics.",
		},
		"cli.sensor.publishing": {VI: "Gửi sự kiện lên chủ đề %s qua %s", EN: "Publishing events to topic %s via %s"},
		"cli.pipeline.summary": {
			VI: "chạy đường ống xử lý: đọc sự kiện các vùng từ Kafka, phát hiện và lưu vào Elasticsearch",
			EN: "run a processing pipeline: consume the regions' events from Kafka, detect and index into Elasticsearch",
		},
		"cli.pipeline.usage": {
			VI: "Cách dùng: canhgac pipeline [--brokers HOST:PORT,...] [--elasticsearch URL,...] [--region VÙNG] [--config TỆP] [--rules ...]\n\n" +
				"Tham gia nhóm tiêu thụ Kafka canhgac-pipeline trên chủ đề sự kiện của mọi vùng, chuẩn hóa, chạy quy tắc\n" +
				"phát hiện và ghi hàng loạt vào Elasticsearch. Offset chỉ được commit khi Elasticsearch đã xác nhận cả lô\n" +
				"và trạng thái tương quan của phân vùng đã được lưu (chủ đề canhgac.state), nên khởi động lại hay cân bằng\n" +
				"lại không làm mất sự kiện, cảnh báo hay cửa sổ tương quan. Chạy nhiều tiến trình để chia tải.",
			EN: "Usage: canhgac pipeline [--brokers HOST:PORT,...] [--elasticsearch URL,...] [--region REGION] [--config FILE] [--rules ...]\n\n" +
				"Joins the Kafka consumer group canhgac-pipeline on every region's events topic, normalizes, runs the\n" +
				"detection rules and bulk-indexes into Elasticsearch. Offsets are committed only once Elasticsearch\n" +
				"acknowledged the whole batch and the partition's correlation state is saved (topic canhgac.state), so a\n" +
				"restart or rebalance loses no event, alert or correlation window. Run several processes to share the load.",
		},
		"cli.pipeline.consuming":          {VI: "Tiêu thụ %s trong nhóm %s, ghi vào %s", EN: "Consuming %s in group %s, indexing into %s"},
		"cli.pipeline.topics":             {VI: "không tạo được các chủ đề Kafka qua %s: %v. Hãy kiểm tra Kafka đang chạy và địa chỉ --brokers", EN: "cannot create the Kafka topics via %s: %v. Check that Kafka runs and the --brokers address"},
		"cli.pipeline.flag.elasticsearch": {VI: "các URL Elasticsearch, cách nhau bằng dấu phẩy (mặc định http://127.0.0.1:9200)", EN: "Elasticsearch URLs, comma-separated (default http://127.0.0.1:9200)"},
		"cli.console.summary": {
			VI: "phục vụ giao diện web và API trên kho Elasticsearch của mọi vùng",
			EN: "serve the web console and API over every region's Elasticsearch store",
		},
		"cli.console.usage": {
			VI: "Cách dùng: canhgac console [--elasticsearch URL,...] [--listen HOST:PORT] [--config TỆP]\n\n" +
				"Tìm kiếm phủ mọi vùng trong regions của cấu hình và đánh dấu vùng của từng kết quả; vùng nào không truy vấn\n" +
				"được thì kết quả gồm các vùng còn lại kèm cảnh báo hiển thị. Màn hình \"Vùng\" cho biết tốc độ nạp, độ trễ\n" +
				"và tình trạng cảm biến của từng vùng. Kho riêng của một vùng đặt trong region_elasticsearch.",
			EN: "Usage: canhgac console [--elasticsearch URL,...] [--listen HOST:PORT] [--config FILE]\n\n" +
				"Search covers every region of the config's regions and marks each hit's region; a region that cannot be\n" +
				"queried is left out with a visible warning. The Regions screen shows each region's ingest rate, lag and\n" +
				"sensor health. A region with a cluster of its own is set in region_elasticsearch.",
		},
		"cli.warning":             {VI: "Cảnh báo: %s", EN: "Warning: %s"},
		"cli.console.region_down": {VI: "Vùng %s không truy cập được lúc khởi động: %s", EN: "Region %s is unreachable at start: %s"},
		"cli.console.no_region":   {VI: "không truy cập được kho của vùng nào trong %s; hãy kiểm tra Elasticsearch đang chạy và địa chỉ --elasticsearch", EN: "no region's store is reachable of %s; check that Elasticsearch runs and the --elasticsearch address"},
		"cli.bus.flag.brokers":    {VI: "các broker Kafka HOST:PORT, cách nhau bằng dấu phẩy (mặc định 127.0.0.1:9092)", EN: "Kafka brokers as HOST:PORT, comma-separated (default 127.0.0.1:9092)"},
		"cli.bus.flag.metrics":    {VI: "địa chỉ host:port phục vụ /metrics, \"off\" để tắt (mặc định %s)", EN: "host:port serving /metrics, \"off\" to disable (default %s)"},
		"cli.bus.metrics":         {VI: "Số liệu Prometheus: %s", EN: "Prometheus metrics: %s"},
	})
}
