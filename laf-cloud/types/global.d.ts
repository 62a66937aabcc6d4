// Laf's web IDE declares FunctionContext globally for cloud functions; so does this file.
declare global {
  type FunctionContext = import('@lafjs/cloud').FunctionContext
}

export {}
