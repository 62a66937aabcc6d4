/** Placeholders the server replaces, URL-encoded, when it sends a notice. */
export const sendUrlPlaceholders = [
  'clientUrl',
  'status',
  'silentMinutes',
  'noticeCount',
  'noticeMax',
  'errorCount',
  'lastHeartbeat',
  'title',
  'message',
] as const

/** Push URL templates of common services; the owner replaces the part in angle brackets. */
export const sendUrlExamples = [
  { service: 'ServerChan', template: 'https://sctapi.ftqq.com/<SENDKEY>.send?title={title}&desp={message}' },
  { service: 'PushPlus', template: 'https://www.pushplus.plus/send?token=<TOKEN>&title={title}&content={message}' },
  { service: 'Bark', template: 'https://api.day.app/<DEVICE_KEY>/{title}/{message}' },
  { service: 'ntfy', template: 'https://ntfy.sh/<TOPIC>/publish?title={title}&message={message}' },
] as const
