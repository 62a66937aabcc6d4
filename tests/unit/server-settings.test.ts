import { describe, expect, it } from 'vitest'
import { readSettings, SettingsError } from '../../laf-cloud/functions/__heartbeat_server_test'

function settingsError(env: Record<string, string>): SettingsError {
  try {
    readSettings(env)
  }
  catch (error) {
    if (error instanceof SettingsError)
      return error
    throw error
  }
  throw new Error('readSettings accepted the environment')
}

describe('readSettings', () => {
  it('uses defaults when unset', () => {
    expect(readSettings({})).toEqual({
      maxClients: 10,
      lateAfterSeconds: 60,
      sweepIntervalSeconds: 60,
      unactivatedTtlSeconds: 86400,
      adminPassword: '',
      allowPrivateUrls: false,
    })
  })

  it('treats empty values as unset', () => {
    const settings = readSettings({ HEARTBEAT_MAX_CLIENTS: '', HEARTBEAT_ADMIN_PASSWORD: '', HEARTBEAT_ALLOW_PRIVATE_URLS: ' ' })
    expect(settings.maxClients).toBe(10)
    expect(settings.adminPassword).toBe('')
    expect(settings.allowPrivateUrls).toBe(false)
  })

  it('reads every variable', () => {
    const settings = readSettings({
      HEARTBEAT_MAX_CLIENTS: '1000',
      HEARTBEAT_LATE_AFTER_SECONDS: '1',
      HEARTBEAT_SWEEP_INTERVAL_SECONDS: '86400',
      HEARTBEAT_UNACTIVATED_TTL_SECONDS: '3600',
      HEARTBEAT_ADMIN_PASSWORD: 'correct horse',
      HEARTBEAT_ALLOW_PRIVATE_URLS: 'TRUE',
    })
    expect(settings).toEqual({
      maxClients: 1000,
      lateAfterSeconds: 1,
      sweepIntervalSeconds: 86400,
      unactivatedTtlSeconds: 3600,
      adminPassword: 'correct horse',
      allowPrivateUrls: true,
    })
  })

  it('accepts 1 and 0 as booleans', () => {
    expect(readSettings({ HEARTBEAT_ALLOW_PRIVATE_URLS: '1' }).allowPrivateUrls).toBe(true)
    expect(readSettings({ HEARTBEAT_ALLOW_PRIVATE_URLS: '0' }).allowPrivateUrls).toBe(false)
  })

  it.each([
    ['HEARTBEAT_MAX_CLIENTS', '0', 'HEARTBEAT_MAX_CLIENTS must be an integer from 1 to 1000, got "0"'],
    ['HEARTBEAT_MAX_CLIENTS', '1001', 'HEARTBEAT_MAX_CLIENTS must be an integer from 1 to 1000, got "1001"'],
    ['HEARTBEAT_MAX_CLIENTS', '2.5', 'HEARTBEAT_MAX_CLIENTS must be an integer from 1 to 1000, got "2.5"'],
    ['HEARTBEAT_MAX_CLIENTS', 'ten', 'HEARTBEAT_MAX_CLIENTS must be an integer from 1 to 1000, got "ten"'],
    ['HEARTBEAT_LATE_AFTER_SECONDS', '-5', 'HEARTBEAT_LATE_AFTER_SECONDS must be an integer from 1 to 86400, got "-5"'],
    ['HEARTBEAT_LATE_AFTER_SECONDS', '86401', 'HEARTBEAT_LATE_AFTER_SECONDS must be an integer from 1 to 86400, got "86401"'],
    ['HEARTBEAT_SWEEP_INTERVAL_SECONDS', '0', 'HEARTBEAT_SWEEP_INTERVAL_SECONDS must be an integer from 1 to 86400, got "0"'],
    ['HEARTBEAT_SWEEP_INTERVAL_SECONDS', '1e3', 'HEARTBEAT_SWEEP_INTERVAL_SECONDS must be an integer from 1 to 86400, got "1e3"'],
    ['HEARTBEAT_UNACTIVATED_TTL_SECONDS', '0', 'HEARTBEAT_UNACTIVATED_TTL_SECONDS must be an integer from 1 to 2592000, got "0"'],
    ['HEARTBEAT_ALLOW_PRIVATE_URLS', 'yes', 'HEARTBEAT_ALLOW_PRIVATE_URLS must be true or false, got "yes"'],
  ])('rejects %s=%s', (variable, value, message) => {
    const error = settingsError({ [variable]: value })
    expect(error.variable).toBe(variable)
    expect(error.message).toBe(message)
  })

  it('rejects short admin password', () => {
    const error = settingsError({ HEARTBEAT_ADMIN_PASSWORD: 'short' })
    expect(error.variable).toBe('HEARTBEAT_ADMIN_PASSWORD')
    expect(error.message).toBe('HEARTBEAT_ADMIN_PASSWORD must be 8 to 1024 characters long, or unset to disable admin login')
  })

  it('never echoes the password', () => {
    const error = settingsError({ HEARTBEAT_ADMIN_PASSWORD: 'secret7' })
    expect(error.message).not.toContain('secret7')
  })
})
