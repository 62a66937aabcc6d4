import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import * as server from '../../laf-cloud/functions/__heartbeat_server_test'
import * as shared from '../../types/api'

// Interfaces leave nothing at run time, so their fields are read from the source.
const API_FILE = fileURLToPath(new URL('../../types/api.ts', import.meta.url))
const SERVER_FILE = fileURLToPath(new URL('../../laf-cloud/functions/__heartbeat_server_test.ts', import.meta.url))

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
}

function interfaceFields(source: ts.SourceFile, name: string): string[] {
  const declaration = source.statements.find((statement): statement is ts.InterfaceDeclaration =>
    ts.isInterfaceDeclaration(statement) && statement.name.text === name)
  if (!declaration)
    throw new Error(`interface ${name} not found in ${source.fileName}`)
  return declaration.members.map(member => (member.name as ts.Identifier).text)
}

function unionMembers(source: ts.SourceFile, name: string): string[] {
  const declaration = source.statements.find((statement): statement is ts.TypeAliasDeclaration =>
    ts.isTypeAliasDeclaration(statement) && statement.name.text === name)
  if (!declaration || !ts.isUnionTypeNode(declaration.type))
    throw new Error(`union type ${name} not found in ${source.fileName}`)
  return declaration.type.types.map(member => member.getText(source).replace(/'/g, ''))
}

const apiSource = parse(API_FILE)
const serverSource = parse(SERVER_FILE)

describe('api types agree', () => {
  it('reply codes match', () => {
    expect(server.ReplyCode).toEqual(shared.ReplyCode)
  })

  it('reply statuses match', () => {
    expect(server.replyStatus).toEqual(shared.replyStatus)
  })

  it('statuses follow code class', () => {
    for (const [code, status] of Object.entries(shared.replyStatus))
      expect(status).toBe(Math.floor(Number(code) / 100))
  })

  it('record fields match', () => {
    expect(interfaceFields(serverSource, 'ClientRecord')).toEqual(interfaceFields(apiSource, 'ClientRecord'))
  })

  it('record field list matches', () => {
    expect([...server.CLIENT_RECORD_FIELDS]).toEqual(interfaceFields(apiSource, 'ClientRecord'))
  })

  it('action names match', () => {
    expect(unionMembers(apiSource, 'ActionName')).toEqual(server.ACTION_NAMES)
    expect(unionMembers(serverSource, 'ActionName')).toEqual(server.ACTION_NAMES)
  })

  it('client states match', () => {
    expect(unionMembers(serverSource, 'ClientState')).toEqual(unionMembers(apiSource, 'ClientState'))
  })

  it('record omits secrets', () => {
    const fields = interfaceFields(apiSource, 'ClientRecord')
    expect(fields).not.toContain('key')
    expect(fields).not.toContain('keyHash')
  })
})
