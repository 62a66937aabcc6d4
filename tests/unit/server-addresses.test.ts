import { describe, expect, it } from 'vitest'
import { classifyAddress, describeBlockedHost, describeUrlProblem } from '../../laf-cloud/functions/__heartbeat_server_test'

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'cloud metadata'],
    ['169.254.1.1', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['100.100.100.200', 'cloud metadata'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['198.18.0.1', 'reserved'],
  ])('blocks IPv4 %s', (address, category) => {
    expect(classifyAddress(address)).toBe(category)
  })

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '192.169.0.1', '169.255.0.1', '11.0.0.1'])('allows public IPv4 %s', (address) => {
    expect(classifyAddress(address)).toBeNull()
  })

  it.each([
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['ff02::1', 'multicast'],
    ['fec0::1', 'reserved'],
    ['[::1]', 'loopback'],
  ])('blocks IPv6 %s', (address, category) => {
    expect(classifyAddress(address)).toBe(category)
  })

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'cloud metadata'],
    ['::ffff:a9fe:a9fe', 'cloud metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:100.64.0.1', 'carrier-grade NAT'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a00:1', 'private'],
    ['::127.0.0.1', 'loopback'],
  ])('judges embedded IPv4 %s', (address, category) => {
    expect(classifyAddress(address)).toBe(category)
  })

  it.each(['2606:4700:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8', '64:ff9b::808:808'])('allows public IPv6 %s', (address) => {
    expect(classifyAddress(address)).toBeNull()
  })

  it('marks non-addresses invalid', () => {
    expect(classifyAddress('example.com')).toBe('invalid')
  })
})

describe('describeBlockedHost', () => {
  it.each([
    ['localhost', 'localhost (localhost)'],
    ['LOCALHOST.', 'localhost (localhost)'],
    ['app.localhost', 'app.localhost (localhost)'],
    ['127.0.0.1', '127.0.0.1 (loopback address)'],
    ['[::1]', '::1 (loopback address)'],
    ['[::ffff:7f00:1]', '::ffff:7f00:1 (loopback address)'],
    ['169.254.169.254', '169.254.169.254 (cloud metadata address)'],
  ])('blocks %s', (host, description) => {
    expect(describeBlockedHost(host)).toBe(description)
  })

  it('leaves names to DNS time', () => {
    expect(describeBlockedHost('example.com')).toBeNull()
    expect(describeBlockedHost('8.8.8.8')).toBeNull()
  })
})

describe('describeUrlProblem', () => {
  it.each([
    ['', 'must not be empty'],
    ['not a url', 'must be a valid http or https URL'],
    ['ftp://example.com/', 'must use http or https'],
    ['javascript:alert(1)', 'must use http or https'],
    ['https://user:pass@example.com/', 'must not contain credentials (user:password@)'],
    ['https://user@example.com/', 'must not contain credentials (user:password@)'],
    ['http://localhost:8000/f', 'must not point at localhost (localhost)'],
    ['http://127.0.0.1/f', 'must not point at 127.0.0.1 (loopback address)'],
    ['http://2130706433/f', 'must not point at 127.0.0.1 (loopback address)'],
    ['http://0x7f.1/f', 'must not point at 127.0.0.1 (loopback address)'],
    ['http://[::ffff:127.0.0.1]/f', 'must not point at ::ffff:7f00:1 (loopback address)'],
    ['http://169.254.169.254/latest/meta-data', 'must not point at 169.254.169.254 (cloud metadata address)'],
    ['http://100.64.1.1/', 'must not point at 100.64.1.1 (carrier-grade NAT address)'],
    [`https://example.com/${'a'.repeat(2048)}`, 'must be at most 2048 characters'],
  ])('rejects %s', (url, problem) => {
    expect(describeUrlProblem(url, false)).toBe(problem)
  })

  it('accepts public URLs', () => {
    expect(describeUrlProblem('https://example.com/f?x=1', false)).toBeNull()
    expect(describeUrlProblem('http://8.8.8.8:8080/', false)).toBeNull()
  })

  it('allows private when configured', () => {
    expect(describeUrlProblem('http://127.0.0.1:3000/f', true)).toBeNull()
    expect(describeUrlProblem('http://localhost/f', true)).toBeNull()
  })

  it('keeps other rules when private allowed', () => {
    expect(describeUrlProblem('https://a:b@127.0.0.1/', true)).toBe('must not contain credentials (user:password@)')
    expect(describeUrlProblem('file:///etc/passwd', true)).toBe('must use http or https')
  })

  it('honours a longer length limit', () => {
    const url = `https://example.com/${'a'.repeat(3000)}`
    expect(describeUrlProblem(url, false, 8192)).toBeNull()
  })
})
