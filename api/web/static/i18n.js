// The workbench's two languages. Every string a collector reads is here, keyed; {name} is filled in.
const TEXT = {
  zh: {
    title: "贷后工作台", queue: "工作队列", portfolio: "资产组合", signOut: "退出", signIn: "登录",
    tokenLabel: "访问令牌（lienwatch users create 打印）", signInFailed: "登录失败：{msg}",
    signedInAs: "{name}（{role}）", loading: "加载中…", none: "无", error: "出错：{msg}",
    loan: "贷款", borrower: "借款人", dpd: "逾期天数", bucket: "账龄", kind: "类型", severity: "级别",
    age: "时长", assignee: "处理人", status: "状态", region: "区域", search: "搜索贷款、车架号、借款人、车牌",
    all: "全部", live: "待处理", includeHeld: "含法律冻结", count: "{n} 条告警", newAlert: "新告警", plate: "车牌", vehicle: "车辆",
    reason: "原因", evidence: "证据", thresholds: "触发阈值", history: "处理记录", actions: "操作",
    acknowledge: "确认", assign: "指派", resolve: "结案", dismiss: "驳回", note: "备注", disposition: "处置结果",
    assigneeName: "指派给（催收员）", held: "法律冻结：{reason}（仅记录，不可追车）", back: "返回队列",
    precise: "精确位置", coarse: "城市级位置（{reason}）", coarseShort: "城市级位置",
    lastPosition: "最后位置", devices: "设备", wired: "有线", wireless: "无线", battery: "电量", power: "电压",
    lastReport: "最后上报", online: "在线", offline: "离线", replay: "轨迹回放", from: "从", to: "到", show: "显示",
    stops: "停留点", home: "常驻点", locate: "立即定位", chaseOn: "开启追车模式", chaseOff: "关闭追车模式",
    commandSent: "指令已发送：{cmd}", points: "{n} 个定位点", noTrack: "无轨迹：{msg}", fixes: "定位点",
    fence: "围栏", export: "导出 CSV", openAlerts: "未结告警（按类型 × 账龄）", devicesActive: "在用设备",
    devicesOffline: "离线设备", inRiskZones: "在风险区域的车辆", alertMap: "未结告警地图（贷款常驻地）",
    total: "合计", ago: "{t}前", days: "{n} 天", hours: "{n} 小时", minutes: "{n} 分钟", at: "时间",
    event: "事件", actor: "操作人", openVehicle: "车辆页", stayPoints: "过夜停留", replayEmpty: "该时段无定位",
    forbidden: "无权访问：{msg}", chaseNotAllowed: "追车与定位需主管权限", language: "English",
    confirmed: "确认属实", false_positive: "误报", install_issue: "安装问题", test: "测试", other: "其他",
    k_risk_zone_enter: "进入风险区", k_risk_zone_dwell: "风险区停留", k_region_exit: "驶出区域",
    k_relocation: "异地常驻", k_long_idle: "长时间静止", k_offline: "设备离线", k_power_cut: "断电",
    k_tamper: "拆除/破坏", k_jamming: "信号屏蔽", k_device_separation: "子母分离", k_tow: "拖车",
    k_reappeared_far: "异地重现", k_gps_jump: "定位漂移",
    s_open: "待处理", s_acknowledged: "已确认", s_assigned: "已指派", s_resolved: "已结案", s_dismissed: "已驳回",
    v_info: "提示", v_low: "低", v_medium: "中", v_high: "高", v_critical: "紧急",
    r_relocation: "已在离常驻点 {km} 公里外过夜 {nights} 晚", r_relocation_region: "已离开绑定区域超过 {h} 小时",
    r_zone_dwell: "在{fence}停留 {min} 分钟", r_zone_enter: "进入{fence}", r_region_exit: "驶出{fence}",
    r_idle: "已静止 {h} 小时（阈值 {th} 小时）", r_offline: "设备 {h} 小时无上报", r_offline_all: "，全部设备离线",
    r_alarm: "设备报警：{alarm}", r_in_zone: "，位于风险区内", r_separation: "有线与无线设备相距 {km} 公里",
    r_tow: "熄火状态下以 {kmh} 公里/小时移动", r_reappeared: "沉默 {h} 小时后在 {km} 公里外出现",
    r_jump: "两次定位隐含速度 {kmh} 公里/小时", r_dpd: "逾期 {dpd} 天", r_current: "未逾期", r_sep: "；",
  },
  en: {
    title: "Collections workbench", queue: "Work queue", portfolio: "Portfolio", signOut: "Sign out", signIn: "Sign in",
    tokenLabel: "Access token (printed by lienwatch users create)", signInFailed: "Sign-in failed: {msg}",
    signedInAs: "{name} ({role})", loading: "Loading…", none: "none", error: "Error: {msg}",
    loan: "Loan", borrower: "Borrower", dpd: "DPD", bucket: "Bucket", kind: "Kind", severity: "Severity",
    age: "Age", assignee: "Assignee", status: "Status", region: "Region", search: "Search loan, VIN, borrower, plate",
    all: "All", live: "Live", includeHeld: "Include legal holds", count: "{n} alerts", newAlert: "new", plate: "Plate", vehicle: "Vehicle",
    reason: "Reason", evidence: "Evidence", thresholds: "Thresholds that fired", history: "History", actions: "Actions",
    acknowledge: "Acknowledge", assign: "Assign", resolve: "Resolve", dismiss: "Dismiss", note: "Note",
    disposition: "Disposition", assigneeName: "Assign to (collector)",
    held: "Legal hold: {reason} (kept on record; no recovery action)", back: "Back to the queue",
    precise: "Precise location", coarse: "City-level location ({reason})", coarseShort: "City-level location",
    lastPosition: "Last known position", devices: "Devices", wired: "wired", wireless: "wireless", battery: "Battery",
    power: "Supply", lastReport: "Last report", online: "online", offline: "offline", replay: "Track replay",
    from: "From", to: "To", show: "Show", stops: "Stops", home: "Home", locate: "Locate now", chaseOn: "Chase mode on",
    chaseOff: "Chase mode off", commandSent: "Command sent: {cmd}", points: "{n} fixes", noTrack: "No track: {msg}",
    fixes: "Fixes", fence: "Fence", export: "Export CSV", openAlerts: "Open alerts by kind × bucket",
    devicesActive: "Active devices", devicesOffline: "Offline devices", inRiskZones: "Cars in risk zones",
    alertMap: "Open alerts (at each loan's home)", total: "Total", ago: "{t} ago", days: "{n} d", hours: "{n} h",
    minutes: "{n} min", at: "At", event: "Event", actor: "By", openVehicle: "Vehicle page", stayPoints: "Overnight stays",
    replayEmpty: "No fixes in this period", forbidden: "Not allowed: {msg}",
    chaseNotAllowed: "Locate and chase need a supervisor", language: "中文",
    confirmed: "Confirmed", false_positive: "False positive", install_issue: "Install issue", test: "Test", other: "Other",
    k_risk_zone_enter: "Risk zone entered", k_risk_zone_dwell: "Risk zone dwell", k_region_exit: "Left region",
    k_relocation: "Relocation", k_long_idle: "Long idle", k_offline: "Offline", k_power_cut: "Power cut",
    k_tamper: "Tamper", k_jamming: "Jamming", k_device_separation: "Device separation", k_tow: "Tow",
    k_reappeared_far: "Reappeared far", k_gps_jump: "GPS jump",
    s_open: "open", s_acknowledged: "acknowledged", s_assigned: "assigned", s_resolved: "resolved", s_dismissed: "dismissed",
    v_info: "info", v_low: "low", v_medium: "medium", v_high: "high", v_critical: "critical",
    r_relocation: "parked {nights} nights {km} km from home", r_relocation_region: "outside its bound region for over {h} h",
    r_zone_dwell: "stayed {min} min at {fence}", r_zone_enter: "entered {fence}", r_region_exit: "left {fence}",
    r_idle: "standing still {h} h (threshold {th} h)", r_offline: "no report for {h} h",
    r_offline_all: ", every device silent", r_alarm: "the tracker raised {alarm}", r_in_zone: " inside a risk zone",
    r_separation: "wired and wireless units {km} km apart", r_tow: "moving at {kmh} km/h with the ignition off",
    r_reappeared: "back after {h} h silent, {km} km from its last fix", r_jump: "implied speed {kmh} km/h between fixes",
    r_dpd: "{dpd} days past due", r_current: "current", r_sep: "; ",
  },
};

let lang = localStorage.getItem("lw.lang") || (navigator.language.startsWith("zh") ? "zh" : "en");

export function language() {
  return lang;
}

export function setLanguage(next) {
  lang = next in TEXT ? next : "en";
  localStorage.setItem("lw.lang", lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

export function t(key, vars = {}) {
  const text = TEXT[lang][key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

setLanguage(lang);
